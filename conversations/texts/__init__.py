"""What the assistant says, one catalogue per area: the flows' code names a text here rather
than writing it inline, so the same refusal is written once and read in one place."""
