"""The short pointers a reply ends with: what to type next."""

from __future__ import annotations


def short_help() -> str:
    return "Gõ /dangky để đăng ký mô hình, /mohinh để xem mô hình, /trogiup để xem mọi lệnh."
