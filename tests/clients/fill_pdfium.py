#!/usr/bin/env python3
"""Fill an AcroForm PDF through PDFium's form-fill API (pypdfium2's raw bindings) the way a
viewer does when a person clicks and types, then save with FPDF_SaveAsCopy.

    python fill_pdfium.py IN.pdf OUT.pdf VALUES.json [--incremental]

VALUES.json: {"field name": value}: a string for text fields, the export value for a choice,
true/false for a check box. The save is a full rewrite (FPDF_NO_INCREMENTAL); --incremental
appends an update instead (FPDF_INCREMENTAL), but PDFium 159 then writes its new xref stream
object without "endobj" (qpdf: "expected endobj ... file is damaged"), so it is not the default.

Per widget: FORM_OnMouseMove + FORM_OnLButtonDown/Up at the centre of its rectangle (focuses it,
as a click does; toggles a check box), then
  text:      FORM_SelectAllText + FORM_ReplaceSelection(value)
  choice:    FORM_SetIndexSelected(index)   (PDFium exposes only option labels, so the index of
             an export value is found by selecting and reading FPDFAnnot_GetFormFieldValue)
  check box: the click toggles it when it differs (checked via FPDFAnnot_IsChecked)
then FORM_ForceToKillFocus (commits the value; PDFium writes the appearance stream).
"""
import ctypes
import json
import sys
import time

import pypdfium2  # noqa: F401  (initialises the library)
import pypdfium2.raw as c
import pypdfium2.version as pv


def die(msg):
    sys.stderr.write(f"fill_pdfium: {msg}\n")
    sys.exit(1)


def utf16(get, *args):
    """Call a PDFium getter that fills a UTF-16LE buffer (returns byte length incl. NUL)."""
    n = get(*args, None, 0)
    if n <= 2:
        return ""
    buf = ctypes.create_string_buffer(n)
    get(*args, ctypes.cast(buf, ctypes.POINTER(c.FPDF_WCHAR)), n)
    return buf.raw[: n - 2].decode("utf-16-le")


def widestring(s):
    buf = ctypes.create_string_buffer(s.encode("utf-16-le") + b"\0\0")
    return buf, ctypes.cast(buf, c.FPDF_WIDESTRING)


TYPE_NAMES = {c.FPDF_FORMFIELD_UNKNOWN: "unknown", c.FPDF_FORMFIELD_PUSHBUTTON: "push button",
              c.FPDF_FORMFIELD_CHECKBOX: "check box", c.FPDF_FORMFIELD_RADIOBUTTON: "radio button",
              c.FPDF_FORMFIELD_COMBOBOX: "combo box", c.FPDF_FORMFIELD_LISTBOX: "list box",
              c.FPDF_FORMFIELD_TEXTFIELD: "text", c.FPDF_FORMFIELD_SIGNATURE: "signature"}


def main(argv):
    args = [a for a in argv if a != "--incremental"]
    full = "--incremental" not in argv
    if len(args) != 3:
        die("usage: fill_pdfium.py IN.pdf OUT.pdf VALUES.json [--incremental]")
    in_path, out_path, values_path = args
    try:
        with open(values_path, encoding="utf-8") as fh:
            values = json.load(fh)
    except (OSError, ValueError) as e:
        die(f"cannot read {values_path}: {e}")
    if not isinstance(values, dict):
        die("VALUES.json must be an object")

    started = time.perf_counter()
    doc = c.FPDF_LoadDocument(in_path.encode("utf-8"), None)
    if not doc:
        die(f"cannot open {in_path} (FPDF_GetLastError {c.FPDF_GetLastError()})")

    # The form environment: what a viewer sets up before showing pages.
    info = c.FPDF_FORMFILLINFO(version=2)
    form = c.FPDFDOC_InitFormFillEnvironment(doc, info)
    if not form:
        die("FPDFDOC_InitFormFillEnvironment failed (no AcroForm?)")
    c.FORM_DoDocumentJSAction(form)
    c.FORM_DoDocumentOpenAction(form)

    # Find every widget: page index, field name, rectangle.
    pages, widgets = [], {}
    for p in range(c.FPDF_GetPageCount(doc)):
        page = c.FPDF_LoadPage(doc, p)
        c.FORM_OnAfterLoadPage(page, form)
        c.FORM_DoPageAAction(page, form, c.FPDFPAGE_AACTION_OPEN)
        pages.append(page)
        for i in range(c.FPDFPage_GetAnnotCount(page)):
            annot = c.FPDFPage_GetAnnot(page, i)
            try:
                if c.FPDFAnnot_GetSubtype(annot) != c.FPDF_ANNOT_WIDGET:
                    continue
                name = utf16(c.FPDFAnnot_GetFormFieldName, form, annot)
                rect = c.FS_RECTF()
                c.FPDFAnnot_GetRect(annot, rect)
                widgets.setdefault(name, []).append((p, i, rect.left, rect.bottom, rect.right, rect.top))
            finally:
                c.FPDFPage_CloseAnnot(annot)

    problems = []

    def click(page, x, y):
        c.FORM_OnMouseMove(form, page, 0, x, y)
        c.FORM_OnLButtonDown(form, page, 0, x, y)
        c.FORM_OnLButtonUp(form, page, 0, x, y)

    for name, value in values.items():
        if name not in widgets:
            problems.append(f"no field named {json.dumps(name, ensure_ascii=False)}")
            continue
        for (p, index, left, bottom, right, top) in widgets[name]:
            page = pages[p]
            annot = c.FPDFPage_GetAnnot(page, index)
            try:
                err = fill_one(form, page, annot, name, value, (left + right) / 2, (bottom + top) / 2, click)
            finally:
                c.FPDFPage_CloseAnnot(annot)
            if err:
                problems.append(f"{name}: {err}")
                break
    if problems:
        die("\n  ".join(problems))

    c.FORM_ForceToKillFocus(form)
    for page in pages:
        c.FORM_DoPageAAction(page, form, c.FPDFPAGE_AACTION_CLOSE)
        c.FORM_OnBeforeClosePage(page, form)
        c.FPDF_ClosePage(page)
    c.FORM_DoDocumentAAction(form, c.FPDFDOC_AACTION_WS)  # "will save"

    out = bytearray()

    def write_block(_this, data, size):
        out.extend(ctypes.string_at(data, size))
        return 1

    write_type = dict(c.FPDF_FILEWRITE._fields_)["WriteBlock"]
    writer = c.FPDF_FILEWRITE(version=1, WriteBlock=write_type(write_block))
    if not c.FPDF_SaveAsCopy(doc, ctypes.byref(writer), c.FPDF_NO_INCREMENTAL if full else c.FPDF_INCREMENTAL):
        die("FPDF_SaveAsCopy failed")
    c.FORM_DoDocumentAAction(form, c.FPDFDOC_AACTION_DS)  # "did save"
    c.FPDFDOC_ExitFormFillEnvironment(form)
    c.FPDF_CloseDocument(doc)
    with open(out_path, "wb") as fh:
        fh.write(out)
    ms = (time.perf_counter() - started) * 1000
    sys.stderr.write(f"fill_pdfium: pypdfium2 {pv.PYPDFIUM_INFO} / PDFium {pv.PDFIUM_INFO}: set {len(values)} fields, "
                     f"wrote {out_path} ({len(out)} bytes, {'full' if full else 'incremental'}) in {ms:.0f} ms\n")


def fill_one(form, page, annot, name, value, x, y, click):
    kind = c.FPDFAnnot_GetFormFieldType(form, annot)
    flags = c.FPDFAnnot_GetFormFieldFlags(form, annot)
    if flags & c.FPDF_FORMFLAG_READONLY:
        return "field is read-only"
    if kind == c.FPDF_FORMFIELD_TEXTFIELD:
        if not isinstance(value, str):
            return f"text field needs a string, got {value!r}"
        if "\n" in value and not flags & c.FPDF_FORMFLAG_TEXT_MULTILINE:
            return "single-line text field cannot take a line break"
        click(page, x, y)
        if not same_annot(form, page, annot):
            return "a click at its centre did not focus it"
        c.FORM_SelectAllText(form, page)
        _keep, ws = widestring(value)
        c.FORM_ReplaceSelection(form, page, ws)
        c.FORM_ForceToKillFocus(form)
        got = utf16(c.FPDFAnnot_GetFormFieldValue, form, annot)
        if got != value and got.replace("\r\n", "\n") == value:
            sys.stderr.write(f"fill_pdfium: note: {name}: PDFium stores the line breaks as CR LF\n")
        elif got != value:
            return f"value reads back as {got!r}"
    elif kind in (c.FPDF_FORMFIELD_COMBOBOX, c.FPDF_FORMFIELD_LISTBOX):
        if not isinstance(value, str):
            return f"choice needs an export value string, got {value!r}"
        count = c.FPDFAnnot_GetOptionCount(form, annot)
        seen = []
        # A selection shows in the field value only once focus leaves the widget, so pick the
        # options one by one (click, select, leave) until the value is the wanted export value.
        for i in range(count):
            click(page, x, y)
            if not same_annot(form, page, annot):
                return "a click at its centre did not focus it"
            if not c.FORM_SetIndexSelected(form, page, i, True):
                return f"FORM_SetIndexSelected({i}) failed"
            c.FORM_ForceToKillFocus(form)
            got = utf16(c.FPDFAnnot_GetFormFieldValue, form, annot)
            seen.append(got)
            if got == value:
                break
        else:
            labels = [utf16(c.FPDFAnnot_GetOptionLabel, form, annot, i) for i in range(count)]
            return f"{value!r} is not one of the choices {seen} (labels {labels})"
    elif kind == c.FPDF_FORMFIELD_CHECKBOX:
        if not isinstance(value, bool):
            return f"check box needs true/false, got {value!r}"
        if bool(c.FPDFAnnot_IsChecked(form, annot)) != value:
            click(page, x, y)
        c.FORM_ForceToKillFocus(form)
        if bool(c.FPDFAnnot_IsChecked(form, annot)) != value:
            return f"still {'checked' if not value else 'unchecked'} after a click"
    else:
        return f"unsupported field type {TYPE_NAMES.get(kind, kind)}"
    return None


def same_annot(form, page, annot):
    """Is ``annot`` the focused annotation (compared by its object number)?"""
    focused = c.FPDF_ANNOTATION()
    pidx = ctypes.c_int(-1)
    if not c.FORM_GetFocusedAnnot(form, ctypes.byref(pidx), ctypes.byref(focused)) or not focused:
        return False
    try:
        return c.FPDFPage_GetAnnotIndex(page, focused) == c.FPDFPage_GetAnnotIndex(page, annot)
    finally:
        c.FPDFPage_CloseAnnot(focused)


if __name__ == "__main__":
    main(sys.argv[1:])
