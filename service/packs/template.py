"""The XLSX input template of a pack: one column per meeting field, headed with its label,
with drop-downs for choices (their items on a hidden sheet), date and time formats and checks,
and each column's help as a comment on its heading."""

from __future__ import annotations

from io import BytesIO

from .model import PackSpec

FORMATS = {"date": "DD/MM/YYYY", "datetime": "DD/MM/YYYY HH:MM", "time": "HH:MM"}
ROWS_FORMATTED = 1000


def template_xlsx(pack: PackSpec) -> bytes:
    from openpyxl import Workbook  # deferred: it takes 0.17 s to load, and only templates need it
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "Meetings"
    lists = wb.create_sheet("Lists")
    lists.sheet_state = "hidden"
    list_col = 0
    for i, column in enumerate(pack.all_columns, start=1):
        letter = get_column_letter(i)
        cell = ws.cell(row=1, column=i, value=column.label)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1D70B8")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        help_text = column.help or ("Required." if column.required else "")
        if column.required and column.help:
            help_text = "Required. " + column.help
        if help_text:
            cell.comment = Comment(help_text, "Step Down Forms")
        ws.column_dimensions[letter].width = 40 if column.type in ("people", "longtext") else 22
        cells = f"{letter}2:{letter}{ROWS_FORMATTED + 1}"
        if column.type in FORMATS:
            for row in ws.iter_rows(min_row=2, max_row=ROWS_FORMATTED + 1, min_col=i, max_col=i):
                row[0].number_format = FORMATS[column.type]
            kind = {"date": "date", "datetime": "date", "time": "time"}[column.type]
            dv = DataValidation(type=kind, operator="greaterThan", formula1="0", allow_blank=True,
                                error=f"Enter a {column.type.replace('datetime', 'date and time')}.",
                                errorTitle=column.label[:32])
            ws.add_data_validation(dv)
            dv.add(cells)
        elif column.type == "choice":
            list_col += 1
            list_letter = get_column_letter(list_col)
            for r, option in enumerate(column.options or [], start=1):
                lists.cell(row=r, column=list_col, value=option)
            dv = DataValidation(type="list", formula1=f"=Lists!${list_letter}$1:${list_letter}${len(column.options)}",
                                allow_blank=True, error="Choose one of the items in the list.", errorTitle=column.label[:32])
            ws.add_data_validation(dv)
            dv.add(cells)
        elif column.type == "people":
            for row in ws.iter_rows(min_row=2, max_row=ROWS_FORMATTED + 1, min_col=i, max_col=i):
                row[0].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
