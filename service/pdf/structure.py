"""The logical structure of a tagged PDF (ISO 32000-1, 14.7–14.8; PDF/UA-1, ISO 14289-1): what
a screen reader follows instead of the page's drawing order.

While pages are drawn, ``Structure`` keeps the element being filled (Document, H1–H3, P, L/LI,
Table, TR, TH, TD, Form). Each piece of text drawn is marked content with an MCID on its page
and belongs to the current element; each form field's widget belongs to a Form element by an
object reference. Everything else drawn (rules, shading, field boxes, the logo, page numbers,
running headers and footers) is an artifact. ``write`` puts the elements, the parent tree that
maps marked content and widgets back to their elements, and returns the structure tree root.
"""

from __future__ import annotations

from .objects import PdfFile, ref, text


class Elem:
    __slots__ = ("role", "parent", "kids", "attrs", "title", "number")

    def __init__(self, role: str, parent: "Elem | None", attrs: str = "", title: str = "") -> None:
        self.role, self.parent, self.attrs, self.title = role, parent, attrs, title
        self.kids: list[object] = []  # Elem, ("mcid", page, n) or ("objr", annotation, page)
        self.number = 0


class Structure:
    def __init__(self) -> None:
        self.root = Elem("Document", None)
        self.stack = [self.root]
        self.group: object = None  # the table or list the last rows belonged to
        self.page_marks: list[list[Elem]] = []  # per page, the element of each MCID
        self.parents: dict[int, list[Elem] | Elem] = {}  # parent tree key -> a page's marks, or a Form
        self.page = -1
        self.page_ref = 0

    @property
    def current(self) -> Elem:
        return self.stack[-1]

    def open(self, role: str, attrs: str = "", title: str = "") -> Elem:
        elem = Elem(role, self.current, attrs, title)
        self.current.kids.append(elem)
        self.stack.append(elem)
        return elem

    def close(self, elem: Elem) -> None:
        while self.stack[-1] is not elem:
            self.stack.pop()
        self.stack.pop()

    def enter_group(self, key: object, role: str) -> None:
        """Rows of one table (or list) share one element, across pages; a row of another group,
        or of none, closes it."""
        if key is self.group and key is not None:
            return
        self.leave_group()
        if key is not None:
            self.open(role)
            self.group = key

    def leave_group(self) -> None:
        if self.group is not None:
            while len(self.stack) > 1:
                self.stack.pop()
            self.group = None

    def new_page(self, page_ref: int) -> int:
        """Start a page; its index in the parent tree (its /StructParents)."""
        self.page += 1
        self.page_ref = page_ref
        self.page_marks.append([])
        key = len(self.parents)
        self.parents[key] = self.page_marks[-1]
        return key

    def mark(self) -> int:
        """A new MCID on the current page, for content of the current element."""
        marks = self.page_marks[self.page]
        marks.append(self.current)
        self.current.kids.append(("mcid", self.page_ref, len(marks) - 1))
        return len(marks) - 1

    def annotation(self, widget: int, title: str) -> int:
        """A form field's widget under a Form element of its own; its /StructParent."""
        form = Elem("Form", self.current, "", title)
        self.current.kids.append(form)
        form.kids.append(("objr", widget, self.page_ref))
        key = len(self.parents)
        self.parents[key] = form
        return key

    def write(self, pdf: PdfFile) -> int:
        """Every element, the parent tree, and the tree root (its object number)."""
        root_ref = pdf.reserve()
        elems: list[Elem] = []
        todo = [self.root]
        while todo:
            elem = todo.pop()
            elem.number = pdf.reserve()
            elems.append(elem)
            todo += [k for k in elem.kids if isinstance(k, Elem)]
        for elem in elems:
            pages = {k[1] for k in elem.kids if not isinstance(k, Elem) and k[0] == "mcid"}
            page = f" /Pg {ref(pages.pop())}" if len(pages) == 1 else ""  # then its MCIDs are plain numbers
            kids = []
            for k in elem.kids:
                if isinstance(k, Elem):
                    kids.append(ref(k.number))
                elif k[0] == "mcid":
                    kids.append(str(k[2]) if page else f"<< /Type /MCR /Pg {ref(k[1])} /MCID {k[2]} >>")
                else:
                    kids.append(f"<< /Type /OBJR /Obj {ref(k[1])} /Pg {ref(k[2])} >>")
            parent = ref(elem.parent.number) if elem.parent is not None else ref(root_ref)
            extra = (f" /T {text(elem.title)}" if elem.title else "") + (f" {elem.attrs}" if elem.attrs else "")
            k = kids[0] if len(kids) == 1 else f"[{' '.join(kids)}]"
            pdf.put(elem.number, f"<< /Type /StructElem /S /{elem.role} /P {parent}{page} /K {k}{extra} >>")
        nums = [f"{key} [{' '.join(ref(e.number) for e in entry)}]" if isinstance(entry, list)
                else f"{key} {ref(entry.number)}" for key, entry in sorted(self.parents.items())]
        tree = pdf.add(f"<< /Nums [{' '.join(nums)}] >>")
        pdf.put(root_ref, f"<< /Type /StructTreeRoot /K [{ref(self.root.number)}] /ParentTree {ref(tree)} "
                          f"/ParentTreeNextKey {len(self.parents)} >>")
        return root_ref


def xmp(title: str) -> bytes:
    """The XMP metadata packet: the title, and the claim of PDF/UA-1 (ISO 14289-1, 5)."""
    safe = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
            f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{safe}</rdf:li></rdf:Alt></dc:title>'
            '<dc:language><rdf:Bag><rdf:li>en-GB</rdf:li></rdf:Bag></dc:language>'
            '<pdf:Producer>Step Down Forms</pdf:Producer><pdfuaid:part>1</pdfuaid:part>'
            '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode("utf-8")
