"""The index of a document's content controls, built once per reading: which controls are
fields (the innermost: LibreOffice wraps each check box in an outer control with the same
binding, and a designer may group controls inside one), which field each one is (by its tag,
else by its data binding), the table cell it sits in, and which have been claimed by a field.
"""

from __future__ import annotations

from lxml import etree

from ..cache import PerObject
from ..spec.model import FormSpec, GroupField, MultiChoiceField, RepeatField
from .locate import ancestor
from .ns import qn
from .oxml_read import SdtInfo, read_sdt
from .parts import path_from_xpath

_SDT, _TC, _TBL = qn("w:sdt"), qn("w:tc"), qn("w:tbl")


def _known_keys(spec: FormSpec) -> frozenset[str]:
    """Every key a control of the form may carry: simple field paths (rows as ``name[].x``),
    and ``path:option`` for each box of a multiple choice."""
    keys: set[str] = set()
    for ref in spec.walk():
        f = ref.field
        if isinstance(f, (GroupField, RepeatField)):
            continue
        keys.add(ref.path)
        if isinstance(f, MultiChoiceField):
            keys.update(f"{ref.path}:{o.value}" for o in f.choices)
    return frozenset(keys)


KNOWN_KEYS: PerObject[FormSpec, frozenset[str]] = PerObject(_known_keys)


class ControlIndex:
    def __init__(self, spec: FormSpec, body: etree._Element) -> None:
        self.spec = spec
        self.keys = KNOWN_KEYS.get(spec)
        every = list(body.iter(_SDT))
        # One walk up from each control finds its table cell and marks the controls that only
        # wrap others.
        containers: set[int] = set()
        cell_of: dict[int, etree._Element | None] = {}
        for e in every:
            cell = None
            for a in e.iterancestors(_SDT, _TC):
                if a.tag == _SDT:
                    containers.add(id(a))
                elif cell is None:
                    cell = a
            cell_of[id(e)] = cell
        self.infos: dict[int, SdtInfo] = {id(e): read_sdt(e) for e in every if id(e) not in containers}
        self._cell_of = {k: cell_of[k] for k in self.infos}
        self._in_cell: dict[int, int] = {}
        for cell in self._cell_of.values():
            if cell is not None:
                self._in_cell[id(cell)] = self._in_cell.get(id(cell), 0) + 1
        self._used: set[int] = set()
        self.by_key: dict[str, list[tuple[SdtInfo, str]]] = {}
        for info in self.infos.values():
            key, how = self.identify(info)
            if key:
                self.by_key.setdefault(key, []).append((info, how))

    @property
    def empty(self) -> bool:
        """No controls at all: the document was flattened (saved through another format)."""
        return not self.infos

    # -- which field a control is --------------------------------------------------------------
    def identify(self, info: SdtInfo) -> tuple[str | None, str]:
        """(key, "control") by tag, (key, "binding") by data binding, or (None, "")."""
        if info.tag and info.tag in self.keys:
            return info.tag, "control"
        if info.xpath:
            found = path_from_xpath(info.xpath)
            if found:
                path, option = found
                ref = self.spec.field_at(path)
                if ref is not None and option is None and path in self.keys:
                    return path, "binding"
                if ref is not None and option is not None and isinstance(ref.field, MultiChoiceField) \
                        and option < len(ref.field.choices):
                    return f"{path}:{ref.field.choices[option].value}", "binding"
        return None, ""

    def has(self, key: str) -> bool:
        return key in self.by_key

    def has_any(self, path: str) -> bool:
        """A control for ``path`` or for one of its options."""
        return path in self.by_key or any(k.startswith(path + ":") for k in self.by_key)

    # -- claiming ----------------------------------------------------------------------------
    def claim(self, info: SdtInfo) -> None:
        self._used.add(id(info.element))

    def take(self, key: str) -> list[tuple[SdtInfo, str]]:
        """The unclaimed controls identified as ``key``, now claimed."""
        found = [(i, h) for i, h in self.by_key.get(key, []) if id(i.element) not in self._used]
        for i, _ in found:
            self._used.add(id(i.element))
        return found

    def free_in(self, cell: etree._Element, row_key: str | None) -> list[SdtInfo]:
        """Controls in ``cell`` not claimed by another field; in a row, those tagged for this
        column first, then untagged ones (or tagged with something that is not a field)."""
        infos = [self.infos[id(e)] for e in cell.iter(_SDT) if id(e) in self.infos and id(e) not in self._used]
        if row_key:
            exact = [i for i in infos if i.tag == row_key]
            return exact or [i for i in infos if not i.tag or i.tag not in self.keys]
        return [i for i in infos if self.identify(i)[0] is None]

    def unclaimed_strangers(self) -> list[str]:
        """Names of controls no field claimed and none could be identified as: not of this form."""
        return sorted({i.tag or i.alias or "(untitled)" for k, i in self.infos.items()
                       if k not in self._used and self.identify(i)[0] is None})

    # -- where a control is ------------------------------------------------------------------
    def cell_of(self, info: SdtInfo) -> etree._Element | None:
        return self._cell_of.get(id(info.element))

    def alone_in_cell(self, info: SdtInfo) -> bool:
        cell = self.cell_of(info)
        return cell is not None and self._in_cell.get(id(cell)) == 1

    def table_of(self, key: str) -> etree._Element | None:
        """The table holding a control identified as ``key`` (a repeat's column)."""
        for info, _ in self.by_key.get(key, []):
            table = ancestor(info.element, _TBL)
            if table is not None:
                return table
        return None

    def declared_paths(self) -> set[str]:
        """Field paths the controls declare (tags and bindings), whatever version wrote them."""
        keys: set[str] = set()
        for info in self.infos.values():
            if info.tag:
                keys.add(info.tag.split(":")[0])
            if info.xpath and (found := path_from_xpath(info.xpath)):
                keys.add(found[0])
        return keys
