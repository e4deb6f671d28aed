"""Which characters a text value may hold: what Word's XML and PDF strings can carry.

XML 1.0 forbids most C0 control characters, lone surrogates and U+FFFE/U+FFFF. Tab is
allowed everywhere; line breaks only in multi-line fields. The same classes feed the JSON
Schema (as ``not: {pattern: ...}``, which behaves alike in Python and ECMAScript regexes).
"""

import re

# Characters no text field may contain.
FORBIDDEN_ANYWHERE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]"
# ... and, in a single-line field, line breaks too.
FORBIDDEN_SINGLE_LINE = r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff\ufffe\uffff\u2028\u2029]"

# The same rule said positively, for JSON Schemas that generators can satisfy: text holding none
# of the forbidden characters, and (for a required value) at least one that is not a space.
# "A space" is what Python's str.isspace() says (what the code strips), spelled out because
# regex engines disagree about \s (ECMAScript's leaves out U+0085). Lone surrogates are left out
# of these: no Unicode string holds one (only a JSON escape can make it), regex engines outside
# Python refuse the range, and the check in code refuses them anyway.
WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CLASS = FORBIDDEN_ANYWHERE[1:-1].replace(r"\ud800-\udfff", "")
_ALLOWED_SPACE = r"\t\n\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
ALLOWED_TEXT = f"^[^{_CLASS}]*$"
ALLOWED_NON_BLANK = f"^[{_ALLOWED_SPACE}]*[^{WHITESPACE}{_CLASS}][^{_CLASS}]*$"

_ANY = re.compile(FORBIDDEN_ANYWHERE)
_LINE = re.compile(FORBIDDEN_SINGLE_LINE)
_BREAK = re.compile(r"[\r\n\u2028\u2029]")

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PHONE = r"^\+?[0-9][0-9 ()\-]{4,22}[0-9]$"


def bad_character(value: str, single_line: bool) -> str | None:
    """None if fine, else 'line_break' or 'control_character'."""
    if single_line and _BREAK.search(value):
        return "line_break"
    if (_LINE if single_line else _ANY).search(value):
        return "control_character"
    return None

