"""The PDF names this package writes and reads (ISO 32000-1), spelled once, and how field
paths become PDF field names.

The writer puts them into the objects it writes as text; the sandbox looks them up in what
pikepdf parsed (which decodes ``#xx`` escapes in names, so ``/J#61vaScript`` is ``/JavaScript``
by the time it is compared here). Plain strings with no imports: the sandbox's worker process
loads this file on its own.
"""

# Field dictionaries (12.7.3.1), their widget annotations (12.5.6.19) and values
FT, T, TU, V, FF, OPT, DA, KIDS, PARENT = "/FT", "/T", "/TU", "/V", "/Ff", "/Opt", "/DA", "/Kids", "/Parent"
AP, AS, N, RECT, SUBTYPE, WIDGET = "/AP", "/AS", "/N", "/Rect", "/Subtype", "/Widget"
BTN, TX, CH = "/Btn", "/Tx", "/Ch"  # field types: buttons (check boxes), text, choices
YES, OFF = "/Yes", "/Off"  # a check box's states
COMBO, MULTILINE = 1 << 17, 1 << 12  # field flags (/Ff bits 18 and 13)

# The document catalog (7.7.2) and its interactive form (12.7.2)
ACROFORM, FIELDS, XFA, DR = "/AcroForm", "/Fields", "/XFA", "/DR"
NAMES, JAVASCRIPT, EMBEDDED_FILES = "/Names", "/JavaScript", "/EmbeddedFiles"
OUTLINES, FIRST = "/Outlines", "/First"  # the outline's items: /First of each level, then /Next
SIZE = "/Size"  # of the trailer: the number of objects

# Pages and annotations (7.7.3, 12.5)
PAGES, ANNOTS, FILE_ATTACHMENT = "/Pages", "/Annots", "/FileAttachment"

# Actions (12.6): where a document can carry one, and their types
OPEN_ACTION, AA, A, S, NEXT = "/OpenAction", "/AA", "/A", "/S", "/Next"
ACTION_TYPES = {  # type -> what it is called when refused (None: harmless, allowed)
    "/JavaScript": "JavaScript", "/Launch": "a launch action", "/SubmitForm": "a submit action",
    "/ImportData": "an import action", "/GoToR": "a link to another file", "/GoToE": "a link to another file",
    "/URI": None, "/GoTo": None, "/Named": None,
}

# The document information dictionary (14.3.3): our identity is kept there too (service.identity)
INFO_TITLE, INFO_SUBJECT, INFO_CREATOR, INFO_PRODUCER = "/Title", "/Subject", "/Creator", "/Producer"


def field_name(path: str) -> str:
    """'safety.fire_setting.answer' -> 'safety/fire_setting/answer'; rows carry their index
    ('actions.2.due_date' -> 'actions/2/due_date'). No dot survives: PDF would read it as nesting."""
    return path.replace(".", "/")


def option_segment(value: str) -> str:
    return value.replace(".", "%2E")


def option_value(segment: str) -> str:
    return segment.replace("%2E", ".")
