"""Every flow and every command of the assistant, gathered from the modules that declare them.
A new command is a ``Command`` in its flow's module, plus that module's line below."""

from __future__ import annotations

from conversations import (
    account,
    assessment,
    deadlines,
    desk,
    documents,
    evidence,
    intro,
    models_menu,
    proposal,
    registration,
    report_drafts,
    reports_sent,
    results,
    review,
    scoring,
    workbooks,
)
from conversations.commands import Command
from conversations.engine import Flow, FlowEngine

_MODULES = (
    account,
    registration,
    models_menu,
    workbooks,
    documents,
    results,
    scoring,
    proposal,
    assessment,
    review,
    desk,
    deadlines,
    reports_sent,
    report_drafts,
    evidence,
    intro,
)

FLOWS: tuple[Flow, ...] = tuple(flow for module in _MODULES for flow in module.FLOWS)
COMMANDS: tuple[Command, ...] = tuple(command for module in _MODULES for command in module.COMMANDS)
# The flows are data: one engine serves every chat.
ENGINE = FlowEngine(FLOWS)
