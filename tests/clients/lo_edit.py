#!/usr/bin/python3
"""Edit Word content controls in a .docx through LibreOffice (tested with 7.4.7, Debian 12) over UNO,
the way the LibreOffice UI changes them, and save as .docx ("MS Word 2007 XML").

    /usr/bin/python3 edit_docx.py IN.docx OUT.docx EDITS.json [--timeout SECONDS]

EDITS.json is a JSON list; each item is one edit (see REPORT.md next to this file):

  {"tag": "child_name", "text": "Ellie"}                      plain/multi-line text control
       "mode": "field" (default: set the Input field's Content, as the Edit Fields dialog does)
             | "replace_text" (type over the field: the control is destroyed, plain text remains)
       "remove_moved_breaks": true   also delete line breaks LibreOffice's import put just before the field
  {"tag": "meeting_date", "date": "2026-12-03"}  or "2026-12-03T10:30"   date picker
       "mode": "both" (default, = date picker: CurrentDate + formatted text) | "property" | "text"
       "display": "..."  text to show instead of the value formatted with the control's date format
  {"tag": "requested_by", "choose": "Foster carer"}  (display text) or {"choose_value": "foster_carer"}
       drop-down; only "mode": "text" exists in 7.4 (no SelectedListItem property)
  {"tag": "child_contributed", "checked": true}                 check box
       "mode": "both" (default, = a click: Checked + glyph) | "property" | "text" (glyph only)
  {"tag": "present[].name", "index": 2, "text": "..."}          a repeat cell: index = n-th control with that tag
  {"table_of": "present[].name", "add_row": {"present[].name": "A", "present[].role": "B"}}
       "method": "paste" (default: copy the last row of controls and paste it as a new row, then fill it)
               | "plain" (Insert Rows Below and type into the cells: no controls in the new row)
  Any content-control edit: "clear_placeholder_flag": true (default) | false (leave ShowingPlaceHolder as it is)
       "reset_style": bool (default = clear_placeholder_flag) remove the "Placeholder Text" character style.
  For plain-text controls the flag cannot be kept: LibreOffice 7.4 drops w:showingPlcHdr from them on import,
  so "clear_placeholder_flag": false is refused.

Exit codes: 0 done; 2 bad arguments or an edit that cannot be done; 3 LibreOffice failed or timed out.
A JSON summary of what was done is printed on stdout; errors go to stderr.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
import zipfile

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
q = lambda ns, n: "{%s}%s" % (ns, n)


class EditError(Exception):
    """An edit that cannot be done (exit 2)."""


class OfficeError(Exception):
    """LibreOffice failed (exit 3)."""


# ---------------------------------------------------------------- the source XML: what each control is

def source_controls(path):
    """Leaf w:sdt elements of word/document.xml in document order, as dicts."""
    try:
        with zipfile.ZipFile(path) as z:
            root = ET.fromstring(z.read("word/document.xml"))
    except (zipfile.BadZipFile, KeyError, ET.ParseError) as exc:
        raise EditError("%s is not a readable .docx: %s" % (path, exc))
    out = []
    for sdt in root.iter(q(W, "sdt")):
        content = sdt.find(q(W, "sdtContent"))
        if content is not None and content.find(".//" + q(W, "sdt")) is not None:
            continue                     # a wrapper (LibreOffice wraps check boxes); the inner one counts
        pr = sdt.find(q(W, "sdtPr"))
        pr = pr if pr is not None else ET.Element("x")
        val = lambda el: None if el is None else el.get(q(W, "val"))
        binding = pr.find(q(W, "dataBinding"))
        if pr.find(q(W14, "checkbox")) is not None:
            kind = "checkbox"
        elif pr.find(q(W, "date")) is not None:
            kind = "date"
        elif pr.find(q(W, "dropDownList")) is not None or pr.find(q(W, "comboBox")) is not None:
            kind = "dropdown"
        elif pr.find(q(W, "text")) is not None:
            kind = "text"
        else:
            kind = "other"
        text_el = pr.find(q(W, "text"))
        texts = "".join(t.text or "" for t in content.iter(q(W, "t"))) if content is not None else ""
        out.append(dict(
            tag=val(pr.find(q(W, "tag"))), alias=val(pr.find(q(W, "alias"))), kind=kind,
            multiline=text_el is not None and text_el.get(q(W, "multiLine")) in ("1", "true", "on"),
            xpath=binding.get(q(W, "xpath")) if binding is not None else None,
            placeholder=pr.find(q(W, "showingPlcHdr")) is not None,
            placeholder_text=texts if pr.find(q(W, "showingPlcHdr")) is not None else None))
    return out


def xpath_names(xpath):
    """'/sdf:form[1]/sdf:a[1]/sdf:b[1]' -> ['form', 'a', 'b']"""
    return [re.sub(r"\[.*\]$", "", s).split(":")[-1] for s in (xpath or "").split("/") if s]


# ---------------------------------------------------------------- LibreOffice

_WATCH = {"proc": None, "timed_out": False}


def _watchdog():
    """The run's time is up: kill LibreOffice, which makes any UNO call that is waiting on it fail at once."""
    _WATCH["timed_out"] = True
    proc = _WATCH["proc"]
    if proc is not None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Office:
    def __init__(self, timeout):
        try:
            self._start(timeout)
        except BaseException:
            self.close()              # e.g. the run's timeout struck while connecting: leave nothing behind
            raise

    def _start(self, timeout):
        import uno
        from com.sun.star.connection import NoConnectException
        self.uno = uno
        self.profile = tempfile.mkdtemp(prefix="edit-docx-lo-")
        self.pipe = "edit_docx_%d_%d" % (os.getpid(), int(time.time() * 1000))
        self.proc = subprocess.Popen(
            ["/usr/bin/soffice", "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
             "--nolockcheck", "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % self.pipe,
             "-env:UserInstallation=" + uno.systemPathToFileUrl(self.profile)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        end = time.time() + timeout
        while True:
            try:
                self.ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % self.pipe)
                break
            except NoConnectException:
                if _WATCH["timed_out"]:
                    raise OfficeError("timed out")
                if self.proc.poll() is not None:
                    raise OfficeError("soffice exited (code %s) before accepting a connection" % self.proc.returncode)
                if time.time() > end:
                    raise OfficeError("soffice did not accept a connection within %ss" % timeout)
                time.sleep(0.25)
        self.smgr = self.ctx.ServiceManager
        self.desktop = self.smgr.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)

    def pv(self, name, value):
        from com.sun.star.beans import PropertyValue
        p = PropertyValue()
        p.Name, p.Value = name, value
        return p

    def load(self, path):
        doc = None
        for attempt in range(4):     # a freshly started office sometimes returns None for the first load
            doc = self.desktop.loadComponentFromURL(self.uno.systemPathToFileUrl(os.path.abspath(path)), "_blank",
                                                    0, (self.pv("Hidden", True),))
            if doc is not None:
                break
            time.sleep(1 + attempt)
        if doc is None or not doc.supportsService("com.sun.star.text.TextDocument"):
            raise OfficeError("LibreOffice could not open %s as a text document" % path)
        return doc

    def save(self, doc, path):
        doc.storeToURL(self.uno.systemPathToFileUrl(os.path.abspath(path)),
                       (self.pv("FilterName", "MS Word 2007 XML"), self.pv("Overwrite", True)))

    def close(self):
        proc = getattr(self, "proc", None)
        try:
            if getattr(self, "desktop", None) is not None:
                self.desktop.terminate()
        except Exception:
            pass
        if proc is not None:
            try:
                proc.wait(10)
            except Exception:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)    # the whole group: oosplash and soffice.bin
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(5)
            except Exception:
                pass
        shutil.rmtree(getattr(self, "profile", ""), ignore_errors=True)


# ---------------------------------------------------------------- the document's controls through UNO

def walk(text, out, cell=None):
    """Input fields and content controls in document order: (kind, object, portion, (table, cell name), paragraph)."""
    e = text.createEnumeration()
    while e.hasMoreElements():
        par = e.nextElement()
        if par.supportsService("com.sun.star.text.TextTable"):
            for name in par.getCellNames():
                walk(par.getCellByName(name), out, (par, name))
            continue
        pe = par.createEnumeration()
        while pe.hasMoreElements():
            por = pe.nextElement()
            t = por.TextPortionType
            if t == "ContentControl":
                out.append(dict(kind="cc", obj=por.ContentControl, portion=por, cell=cell, par=par))
            elif t == "TextField" and por.TextField.supportsService("com.sun.star.text.textfield.Input"):
                out.append(dict(kind="input", obj=por.TextField, portion=por, cell=cell, par=par))
    return out


def uno_xpath(c):
    if c["kind"] == "cc":
        return c["obj"].DataBindingXpath or None
    for p in c["obj"].InteropGrabBag:
        if p.Name == "ooxml:CT_SdtPr_dataBinding":
            for x in p.Value:
                if x.Name == "ooxml:CT_DataBinding_xpath":
                    return x.Value
    return None


def uno_kind(c):
    if c["kind"] == "input":
        return "text"
    o = c["obj"]
    if o.Checkbox:
        return "checkbox"
    if o.Date:
        return "date"
    if len(o.ListItems):
        return "dropdown"
    return "other"


def pair_controls(src, ctrls):
    if len(src) != len(ctrls):
        raise EditError("the document has %d content controls in word/document.xml but LibreOffice shows %d "
                        "(block-level or header/footer controls are not supported)" % (len(src), len(ctrls)))
    for i, (s, c) in enumerate(zip(src, ctrls)):
        k = uno_kind(c)
        if s["kind"] != k and not (s["kind"] == "other" and k in ("text", "other")):
            raise EditError("control #%d (tag %r): XML says %s, LibreOffice shows %s" % (i, s["tag"], s["kind"], k))
        ux = uno_xpath(c)
        if s["xpath"] and ux and s["xpath"] != ux:
            raise EditError("control #%d (tag %r): binding %s in XML, %s in LibreOffice" % (i, s["tag"], s["xpath"], ux))
        c["src"] = s


def find_controls(ctrls, tag):
    hits = [c for c in ctrls if c["src"]["tag"] == tag]
    if not hits and tag:       # no w:tag (e.g. a file LibreOffice saved): try the binding
        want = tag.split(".")
        hits = [c for c in ctrls if c["src"]["xpath"] and xpath_names(c["src"]["xpath"])[1:] == want]
    return hits


def inner_portions(cc):
    out, e = [], cc.createEnumeration()
    while e.hasMoreElements():
        out.append(e.nextElement())
    return out


def cc_text(c):
    return "".join(p.getString() for p in inner_portions(c["obj"]))


def set_cc_text(c, s):
    """Replace a content control's content. Selecting the whole content and setString() deletes it all and
    loses the new text (7.4), so insert at the start, then delete the old content after it."""
    if not s:
        raise EditError("content control (tag %r): an empty value is refused; deleting all of a content "
                        "control's text through UNO in 7.4 loses the position inside it" % c["src"]["tag"])
    cc, text = c["obj"], c["portion"].getText()
    ins = inner_portions(cc)
    if not ins:
        raise EditError("content control (tag %r) has no content to replace" % c["src"]["tag"])
    old_end = ins[-1].getEnd()
    cur = text.createTextCursorByRange(ins[0].getStart())
    text.insertString(cur, s, False)
    cur.gotoRange(old_end, True)
    cur.setString("")
    if cc_text(c) != s:
        raise EditError("content control (tag %r): text is %r after the edit, not %r" % (c["src"]["tag"], cc_text(c), s))


def cc_range_cursor(c):
    """A cursor over the content control's content and its two dummy characters (so that the empty runs
    LibreOffice writes at the control's edges get the same character attributes)."""
    text = c["portion"].getText()
    ins = inner_portions(c["obj"])
    cur = text.createTextCursorByRange(ins[0].getStart())
    cur.goLeft(1, False)
    cur.gotoRange(ins[-1].getEnd(), True)
    cur.goRight(1, True)
    return cur


def set_char_style(c, style):
    cur = cc_range_cursor(c)
    if style:
        cur.CharStyleName = style
    else:
        cur.setPropertyToDefault("CharStyleName")


# ---------------------------------------------------------------- dates

def parse_date(s):
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.datetime.strptime(s, fmt)
        except (ValueError, TypeError):
            pass
    raise EditError("date %r is not YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]" % (s,))


def format_date(office, doc, cc, when):
    """The control's text for a date, as LibreOffice's date picker makes it: the document's number formatter
    with the control's DateFormat and DateLanguage."""
    from com.sun.star.lang import Locale
    fmt = cc.DateFormat or "YYYY-MM-DD"
    lang = (cc.DateLanguage or "en-US").split("-")
    loc = Locale()
    loc.Language, loc.Country = lang[0], (lang[1] if len(lang) > 1 else "")
    formats = doc.getNumberFormats()
    key = formats.queryKey(fmt, loc, False)
    if key == -1:
        key = formats.addNew(fmt, loc)
    nf = office.smgr.createInstanceWithContext("com.sun.star.util.NumberFormatter", office.ctx)
    nf.attachNumberFormatsSupplier(doc)
    nd = doc.getNumberFormatSettings().NullDate
    serial = (when - datetime.datetime(nd.Year, nd.Month, nd.Day)).total_seconds() / 86400.0
    return nf.convertNumberToString(key, serial)


# ---------------------------------------------------------------- edits

CC_KEYS = {"clear_placeholder_flag", "reset_style", "mode", "tag", "index"}


def check_keys(edit, allowed):
    extra = set(edit) - allowed
    if extra:
        raise EditError("edit %s: unknown key(s) %s" % (json.dumps(edit), ", ".join(sorted(extra))))


def finish_cc(c, edit, text_changed):
    clear = edit.get("clear_placeholder_flag", True)
    if clear:
        c["obj"].ShowingPlaceHolder = False
    if text_changed and edit.get("reset_style", clear):
        set_char_style(c, "")


def edit_text(office, doc, c, edit, notes):
    check_keys(edit, {"tag", "index", "text", "mode", "clear_placeholder_flag", "remove_moved_breaks"})
    value = edit["text"]
    if not isinstance(value, str):
        raise EditError("edit %s: text must be a string" % json.dumps(edit))
    if c["kind"] == "cc":           # a date or drop-down given free text: replace the shown text only
        if c["obj"].Checkbox:
            raise EditError("tag %r is a check box: use \"checked\"" % c["src"]["tag"])
        set_cc_text(c, value)
        finish_cc(c, edit, True)
        return "content control text replaced"
    if edit.get("clear_placeholder_flag", True) is False:
        raise EditError("tag %r: LibreOffice 7.4 imports plain-text controls as Input fields and drops "
                        "w:showingPlcHdr, so the flag cannot be kept" % c["src"]["tag"])
    field = c["obj"]
    mode = edit.get("mode", "field")
    if mode == "replace_text":
        anchor = field.getAnchor()
        anchor.getText().insertString(anchor, value, True)
        return "field replaced by plain text (the control is gone from the saved file)"
    if mode != "field":
        raise EditError("text edit mode must be 'field' or 'replace_text', not %r" % mode)
    if edit.get("remove_moved_breaks"):
        # LibreOffice 7.4's import puts the w:br of a multi-line control into the paragraph just before the field
        before, e = None, c["par"].createEnumeration()
        while e.hasMoreElements():
            por = e.nextElement()
            if por.TextPortionType == "TextField" and por.TextField == field:
                break
            before = por if por.TextPortionType == "Text" else None
        s = before.getString() if before is not None else ""
        n = len(s) - len(s.rstrip("\n"))
        if n:
            anchor = field.getAnchor()
            cur = anchor.getText().createTextCursorByRange(anchor.getStart())
            cur.goLeft(n, True)
            if cur.getString() != "\n" * n:
                raise EditError("could not select the line breaks before the field")
            cur.setString("")
        notes.append("removed %d line break(s) before the field" % n)
    if "\n" in value and not c["src"]["multiline"]:
        notes.append("line breaks given to a single-line control")
    field.Content = value
    field.update()
    if set("&<") & set(value) and uno_xpath(c):
        notes.append("value contains & or <: LibreOffice 7.4 writes customXml/item1.xml as an empty file")
    return "Input field Content set"


def edit_date(office, doc, c, edit, notes):
    check_keys(edit, CC_KEYS | {"date", "display"})
    cc = c["obj"]
    if c["kind"] != "cc" or not cc.Date:
        raise EditError("tag %r is not a date control" % c["src"]["tag"])
    when = parse_date(edit["date"])
    mode = edit.get("mode", "both")
    if mode not in ("both", "property", "text"):
        raise EditError("date mode must be both, property or text")
    if mode in ("both", "property"):
        cc.CurrentDate = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if mode in ("both", "text"):
        set_cc_text(c, edit.get("display") or format_date(office, doc, cc, when))
    finish_cc(c, edit, mode != "property")
    return "date: " + {"both": "CurrentDate and text set", "property": "CurrentDate set", "text": "text set"}[mode]


def edit_choose(office, doc, c, edit, notes):
    check_keys(edit, CC_KEYS | {"choose", "choose_value"})
    cc = c["obj"]
    if c["kind"] != "cc" or not len(cc.ListItems):
        raise EditError("tag %r is not a drop-down control" % c["src"]["tag"])
    items = [{p.Name: p.Value for p in item} for item in cc.ListItems]
    if "choose" in edit:
        hit = [i for i in items if i.get("DisplayText") == edit["choose"]]
    else:
        hit = [i for i in items if i.get("Value") == edit["choose_value"]]
    if not hit:
        raise EditError("tag %r: no list item %r; items: %s" % (
            c["src"]["tag"], edit.get("choose", edit.get("choose_value")),
            ", ".join(repr(i.get("DisplayText")) for i in items)))
    mode = edit.get("mode", "text")
    if mode != "text":
        raise EditError("drop-down: LibreOffice 7.4 has no SelectedListItem property; only mode 'text' is possible")
    set_cc_text(c, hit[0].get("DisplayText") or hit[0].get("Value"))
    finish_cc(c, edit, True)
    return "drop-down text set to %r" % cc_text(c)


def edit_check(office, doc, c, edit, notes):
    check_keys(edit, CC_KEYS | {"checked"})
    cc = c["obj"]
    if c["kind"] != "cc" or not cc.Checkbox:
        raise EditError("tag %r is not a check box" % c["src"]["tag"])
    if not isinstance(edit["checked"], bool):
        raise EditError("checked must be true or false")
    mode = edit.get("mode", "both")
    if mode not in ("both", "property", "text"):
        raise EditError("check box mode must be both, property or text")
    if mode in ("both", "property"):
        cc.Checked = edit["checked"]
    if mode in ("both", "text"):
        set_cc_text(c, cc.CheckedState if edit["checked"] else cc.UncheckedState)
    finish_cc(dict(c), dict(edit, reset_style=edit.get("reset_style", False)), mode != "property")
    return "check box: " + {"both": "Checked and glyph set", "property": "Checked set", "text": "glyph set"}[mode]


def apply_value(office, doc, c, value, notes):
    """A value in an add_row map, by the control's kind."""
    kind = uno_kind(c)
    tag = c["src"]["tag"]
    if kind == "checkbox":
        return edit_check(office, doc, c, {"tag": tag, "checked": value}, notes)
    if kind == "date":
        return edit_date(office, doc, c, {"tag": tag, "date": value}, notes)
    if kind == "dropdown":
        return edit_choose(office, doc, c, {"tag": tag, "choose": value}, notes)
    return edit_text(office, doc, c, {"tag": tag, "text": value}, notes)


def row_of(cell_name):
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", cell_name)
    if not m:
        raise EditError("cell %s is a split/merged cell; adding rows to such tables is not supported" % cell_name)
    return m.group(1), int(m.group(2))


def add_row(office, doc, ctrls, edit, notes):
    check_keys(edit, {"table_of", "add_row", "method"})
    values = edit["add_row"]
    if not isinstance(values, dict):
        raise EditError("add_row must be an object {tag: value}")
    hits = find_controls(ctrls, edit["table_of"])
    if not hits or hits[0]["cell"] is None:
        raise EditError("no control tagged %r in a table" % edit["table_of"])
    tables = {h["cell"][0].getName() for h in hits}
    if len(tables) != 1:
        raise EditError("controls tagged %r are in several tables: %s" % (edit["table_of"], sorted(tables)))
    table = hits[0]["cell"][0]
    tname = table.getName()
    last_row = max(row_of(h["cell"][1])[1] for h in hits)
    template = [c for c in ctrls if c["cell"] and c["cell"][0].getName() == tname and row_of(c["cell"][1])[1] == last_row]
    by_tag = {c["src"]["tag"]: c for c in template}
    unknown = set(values) - set(by_tag)
    if unknown:
        raise EditError("add_row: %s not in the row (its controls: %s)" % (sorted(unknown), sorted(t for t in by_tag if t)))
    row_cells = [n for n in table.getCellNames() if row_of(n)[1] == last_row]
    rows = table.getRows()
    rows.insertByIndex(last_row, 1)          # 0-based index last_row = just after 1-based row last_row
    new_row = last_row + 1
    method = edit.get("method", "paste")
    if method == "plain":
        for tag, value in values.items():
            c = by_tag[tag]
            col = row_of(c["cell"][1])[0]
            kind = uno_kind(c)
            if kind == "checkbox":
                shown = c["obj"].CheckedState if value else c["obj"].UncheckedState
            elif kind == "date":
                shown = format_date(office, doc, c["obj"], parse_date(value))
            else:
                shown = str(value)
            table.getCellByName("%s%d" % (col, new_row)).setString(shown)
        return "row %d inserted in %s; plain text typed (no controls)" % (new_row, tname)
    if method != "paste":
        raise EditError("add_row method must be paste or plain")
    ctl = doc.getCurrentController()
    ctl.select(table.getCellRangeByName("%s:%s" % (row_cells[0], row_cells[-1])))
    transfer = ctl.getTransferable()
    ctl.select(table.getCellByName("%s%d" % (row_of(row_cells[0])[0], new_row)).createTextCursor())
    ctl.insertTransferable(transfer)
    new = []
    for name in row_cells:
        col = row_of(name)[0]
        new += walk(table.getCellByName("%s%d" % (col, new_row)), [], (table, "%s%d" % (col, new_row)))
    if len(new) != len(template):
        raise EditError("pasted row has %d controls, the copied row %d" % (len(new), len(template)))
    for n, t in zip(new, template):
        n["src"] = dict(t["src"])
        if n["kind"] != t["kind"]:
            raise EditError("pasted row: control kinds differ from the copied row")
        if n["kind"] == "cc":        # pasting drops the kind of a content control (7.4): put it back
            for p in ("Checkbox", "CheckedState", "UncheckedState", "Date", "DateFormat", "DateLanguage", "ListItems"):
                value = t["obj"].getPropertyValue(p)
                if value:            # setting an empty/false one can undo another (e.g. ListItems)
                    setattr(n["obj"], p, value)   # (setPropertyValue loses the type of ListItems)
    applied = []
    for n in new:
        tag = n["src"]["tag"]
        if tag in values:
            applied.append(apply_value(office, doc, n, values[tag], notes))
        elif n["kind"] == "input":
            n["obj"].Content = ""
            n["obj"].update()
        else:                        # back to an unfilled control
            cc = n["obj"]
            if cc.Checkbox:
                cc.Checked = False
                set_cc_text(n, cc.UncheckedState)
            else:
                cc.CurrentDate = ""
                set_cc_text(n, n["src"]["placeholder_text"] or " ")
                try:
                    set_char_style(n, "Placeholder Text")
                except Exception:
                    pass
                cc.ShowingPlaceHolder = True
    for name in row_cells:
        cell = table.getCellByName("%s%d" % (row_of(name)[0], new_row))
        if not walk(cell, []) and cell.getString().strip():
            notes.append("cell %s%d holds text copied from the row above: %r" % (row_of(name)[0], new_row,
                                                                               cell.getString()))
    ctrls.extend(new)
    return "row %d pasted in %s (copy of row %d), %d value(s) set" % (new_row, tname, last_row, len(applied))


def apply_edit(office, doc, ctrls, edit):
    notes = []
    if not isinstance(edit, dict):
        raise EditError("each edit must be a JSON object, not %r" % (edit,))
    if "table_of" in edit:
        return add_row(office, doc, ctrls, edit, notes), notes
    if "tag" not in edit:
        raise EditError("edit %s has neither 'tag' nor 'table_of'" % json.dumps(edit))
    hits = find_controls(ctrls, edit["tag"])
    if not hits:
        raise EditError("no control tagged %r (tags in the file: %s)" % (
            edit["tag"], ", ".join(sorted({c["src"]["tag"] for c in ctrls if c["src"]["tag"]}))))
    if len(hits) > 1 and "index" not in edit:
        raise EditError("%d controls are tagged %r: give \"index\" (0-based)" % (len(hits), edit["tag"]))
    idx = edit.get("index", 0)
    if not isinstance(idx, int) or not 0 <= idx < len(hits):
        raise EditError("index %r out of range for tag %r (%d controls)" % (idx, edit["tag"], len(hits)))
    c = hits[idx]
    actions = [k for k in ("text", "date", "choose", "choose_value", "checked") if k in edit]
    if len(actions) != 1:
        raise EditError("edit %s needs exactly one of text, date, choose, choose_value, checked" % json.dumps(edit))
    fn = {"text": edit_text, "date": edit_date, "choose": edit_choose, "choose_value": edit_choose,
          "checked": edit_check}[actions[0]]
    return fn(office, doc, c, edit, notes), notes


# ---------------------------------------------------------------- main

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("edits")
    ap.add_argument("--timeout", type=int, default=180, help="seconds for the whole run (default 180)")
    a = ap.parse_args(argv)
    try:
        with open(a.edits, encoding="utf-8") as f:
            edits = json.load(f)
        if not isinstance(edits, list):
            raise EditError("EDITS.json must hold a JSON list")
        if not os.path.isfile(a.input):
            raise EditError("no such file: %s" % a.input)
        src = source_controls(a.input)
    except (OSError, ValueError, EditError) as exc:
        print("edit_docx: %s" % exc, file=sys.stderr)
        return 2

    def on_term(signum, frame):
        raise OfficeError("terminated by signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)
    watchdog = threading.Timer(a.timeout, _watchdog)
    watchdog.daemon = True
    watchdog.start()
    office, summary, code = None, [], 0
    try:
        office = Office(timeout=min(60, a.timeout))
        work_copy = os.path.join(office.profile, "in-" + os.path.basename(a.input))
        shutil.copyfile(a.input, work_copy)       # load a private copy: no lock-file clash with another user
        doc = office.load(work_copy)
        try:
            ctrls = walk(doc.getText(), [])
            pair_controls(src, ctrls)
            for i, edit in enumerate(edits):
                try:
                    did, notes = apply_edit(office, doc, ctrls, edit)
                except EditError as exc:
                    raise EditError("edit #%d %s: %s" % (i, json.dumps(edit, ensure_ascii=False), exc))
                summary.append(dict(edit=edit, done=did, notes=notes))
            tmp = a.output + ".part.docx"
            office.save(doc, tmp)
            os.replace(tmp, a.output)
        finally:
            try:
                doc.close(True)
            except Exception:
                pass
    except EditError as exc:
        print("edit_docx: %s" % exc, file=sys.stderr)
        code = 2
    except Exception as exc:       # OfficeError, or a UNO exception (also what a killed office raises)
        if _WATCH["timed_out"]:
            print("edit_docx: LibreOffice: timed out after %ss" % a.timeout, file=sys.stderr)
        elif isinstance(exc, OfficeError):
            print("edit_docx: LibreOffice: %s" % exc, file=sys.stderr)
        else:
            print("edit_docx: LibreOffice/UNO error: %s: %s" % (type(exc).__name__, getattr(exc, "Message", exc)),
                  file=sys.stderr)
        code = 3
    finally:
        watchdog.cancel()
        if office is not None:
            office.close()
    if code == 0:
        with zipfile.ZipFile(a.output) as z:
            for n in z.namelist():
                if n.startswith("customXml/item") and not n.startswith("customXml/itemProps") and z.getinfo(n).file_size == 0:
                    summary.append(dict(warning="%s was written empty (0 bytes) by LibreOffice" % n))
        for item in summary:
            print(json.dumps(item, ensure_ascii=False))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
