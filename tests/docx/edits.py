"""Edit a generated .docx the way a person does in Word, at the XML Word itself would write:
type into a control, tick a box, pick another drop-down item, copy a table row, type beside a
control, remove a control. Like Word, typing into a bound control also updates its node in the
custom XML data part (dates as ISO, boxes as true/false, drop-downs as the item's value)."""

from __future__ import annotations

import copy
import zipfile
from io import BytesIO

from lxml import etree

from service.docx import oxml
from service.docx.ns import qn


class WordEdit:
    def __init__(self, raw: bytes) -> None:
        self._zip = zipfile.ZipFile(BytesIO(raw))
        self.doc = etree.fromstring(self._zip.read("word/document.xml"))
        self.part = etree.fromstring(self._zip.read("customXml/item1.xml"))

    def save(self) -> bytes:
        out = BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for info in self._zip.infolist():
                data = self._zip.read(info)
                if info.filename == "word/document.xml":
                    data = etree.tostring(self.doc, xml_declaration=True, encoding="UTF-8", standalone=True)
                elif info.filename == "customXml/item1.xml":
                    data = etree.tostring(self.part, xml_declaration=True, encoding="UTF-8", standalone=True)
                z.writestr(info, data)
        return out.getvalue()

    def controls(self, tag: str) -> list[etree._Element]:
        return [s for s in self.doc.iter(qn("w:sdt"))
                if (t := s.find(f"{qn('w:sdtPr')}/{qn('w:tag')}")) is not None and t.get(qn("w:val")) == tag]

    def _bind(self, sdt: etree._Element, stored: str) -> None:
        binding = sdt.find(f"{qn('w:sdtPr')}/{qn('w:dataBinding')}")
        if binding is None:
            return
        node = self.part
        for step in binding.get(qn("w:xpath")).split("/")[2:]:
            name, _, index = step.partition("[")
            node = node.findall(qn(name))[int(index.rstrip("]")) - 1]
        node.text = stored

    def _content(self, sdt: etree._Element, text: str) -> None:
        pr = sdt.find(qn("w:sdtPr"))
        flag = pr.find(qn("w:showingPlcHdr"))
        if flag is not None:
            pr.remove(flag)
        content = sdt.find(qn("w:sdtContent"))
        for child in list(content):
            content.remove(child)
        content.append(oxml.fragment(oxml.run(text)))

    def type_text(self, tag: str, text: str, index: int = 0) -> "WordEdit":
        sdt = self.controls(tag)[index]
        self._content(sdt, text)
        is_date = sdt.find(f"{qn('w:sdtPr')}/{qn('w:date')}") is not None
        self._bind(sdt, "-".join(reversed(text.split("/"))) if is_date else text)
        return self

    def choose(self, tag: str, label: str, index: int = 0) -> "WordEdit":
        sdt = self.controls(tag)[index]
        dd = sdt.find(f"{qn('w:sdtPr')}/{qn('w:dropDownList')}")
        value = next(li.get(qn("w:value")) for li in dd if li.get(qn("w:displayText")) == label)
        dd.set(qn("w:lastValue"), value)
        self._content(sdt, label)
        self._bind(sdt, value)
        return self

    def tick(self, tag: str, on: bool = True) -> "WordEdit":
        sdt = self.controls(tag)[0]
        sdt.find(f".//{qn('w14:checked')}").set(qn("w14:val"), "1" if on else "0")
        sdt.find(f".//{qn('w:t')}").text = oxml.CHECKED if on else oxml.UNCHECKED
        self._bind(sdt, "true" if on else "false")
        return self

    def copy_row(self, tag: str, values: dict[str, str]) -> "WordEdit":
        """Copy the row holding the first control tagged ``tag`` to the end of its table and
        type ``values`` (column tag -> text) into the copy."""
        tr = next(self.controls(tag)[0].iterancestors(qn("w:tr")))
        new = copy.deepcopy(tr)
        tr.getparent().append(new)
        for sdt in new.iter(qn("w:sdt")):
            col = sdt.find(f"{qn('w:sdtPr')}/{qn('w:tag')}").get(qn("w:val"))
            if col in values:
                self._content(sdt, values[col])
        return self

    def type_beside(self, tag: str, text: str) -> "WordEdit":
        sdt = self.controls(tag)[0]
        sdt.addnext(oxml.fragment(oxml.run(text)))
        return self

    def remove_control(self, tag: str, keep_text: bool = True) -> "WordEdit":
        """Word's 'Remove Content Control' keeps the text; deleting the control loses it too."""
        sdt = self.controls(tag)[0]
        parent = sdt.getparent()
        if keep_text:
            for r in list(sdt.find(qn("w:sdtContent"))):
                sdt.addprevious(r)
        parent.remove(sdt)
        return self
