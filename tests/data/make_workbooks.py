"""Writes the workbooks of ``tests/data`` (``python -m tests.data.make_workbooks``).

They are what a district office receives from its wards, typed as ward offices type them: a
unit list in any order with parents by name, by path and without diacritics; Phụ lục 1 and 4
of Đảng bộ phường Hương Hồ and Phụ lục 1 of Đảng bộ phường Hương Văn, with the party header
above the title, cells broken over two lines (Alt+Enter), double spaces, text in NFD (as some
phone keyboards and old converters send it), a unit line with one wrong diacritic, a row
marked both “Tập thể” and “Cá nhân”, a row marked neither, a model of one person marked as
collective, and twin names: “Chi bộ Tổ dân phố 1” in three wards, “Đảng bộ phường Hương Văn”
and “Đảng bộ phường Hương Vân”, two real wards one diacritic apart.

The tests read the files as they are committed; this script only says how they were made.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

HERE = Path(__file__).parent
Rows = Sequence[Sequence[Any]]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


UNITS: Rows = [
    ["Tên đơn vị", "Loại", "Cấp trên"],  # 1
    ["Chi bộ Tổ dân phố 1", "Chi bộ", "Đảng bộ phường Hương Văn"],  # 2: before its parent
    ["Thị xã Hương Trà", "huyen", None],  # 3
    ["Đảng bộ phường Hương Văn", "Phường", "Thị xã Hương Trà"],  # 4
    ["Đảng bộ phường Hương Vân", "Phường", "Thị xã Hương Trà"],  # 5: one diacritic apart
    ["Đảng bộ phường Hương Hồ", "phuong", "Thi xa Huong Tra"],  # 6: typed without diacritics
    ["Chi bộ Tổ dân phố 1", "chi_bo", "Đảng bộ phường Hương Vân"],  # 7: twins
    ["Chi bộ Tổ dân phố 1", "chi_bo", "Đảng bộ phường Hương Hồ"],  # 8
    ["Chi bộ Tổ dân phố 2", "chi_bo", "Đảng bộ phường Hương Hồ "],  # 9
    ["Chi bộ Tổ dân  phố 3", "chi_bo", "Đảng bộ phường\nHương Hồ"],  # 10: Alt+Enter
    [
        "Chi hội Phụ nữ\nTổ dân phố 1",
        "doan_the",
        "Thị xã Hương Trà / Đảng bộ phường Hương Hồ / Chi bộ Tổ dân phố 1",
    ],  # 11: the parent by its path
    [nfd("Hội LHPN phường"), "Đoàn thể", nfd("Đảng bộ phường Hương Hồ")],  # 12: NFD
    ["Tổ tự quản số 1", "khac", "Chi bộ Tổ dân phố 1"],  # 13: three wards have one
    ["Chi bộ Tổ dân phố 4", "chi_bo", "Đảng bộ phường Hương Hô"],  # 14: misspelt
    [None, "chi_bo", "Đảng bộ phường Hương Hồ"],  # 15: no name
    ["Đoàn Thanh niên phường  ", "doan_the", "dang bo phuong huong van"],  # 16: Văn or Vân?
    ["Hội Cựu chiến binh phường", "doan_the", "Đảng bộ phường Hương Văn"],  # 17: exact
]

PL1_HEAD = [
    "STT",
    "Xã, phường, thị trấn, cơ quan đơn vị/ \nTên mô hình",
    "Số lượng",
    "Địa điểm xây dựng, triển khai ",
    "Chủ trì",
    "Lĩnh vực",
    "Quy mô thực hiện",
    "Chủ thể",
    None,
]
PL4_HEAD = [
    "STT",
    "Xã, phường, thị trấn, cơ quan đơn vị/ \nTên mô hình",
    "Số lượng",
    "Địa điểm xây dựng, triển khai ",
    "Chủ trì",
    "Lĩnh vực",
    "Tóm tắt quy mô, kết quả cụ thể đạt được",
    "Trong đó",
    None,
    "Chủ thể",
    None,
]

PL1_HUONG_HO: Rows = [
    ["I", "Mô hình tiếp tục duy trì từ năm 2025"],  # 10
    [1, "Chi bộ Tổ dân phố 1"],  # 11: one of three twins; the header says whose
    ["-", "Tuyến phố\nvăn minh", 1, "Tổ dân phố 1", "Chi bộ", "VHXH", "210 hộ", "x"],  # 12
    ["II", "Mô hình đăng ký mới năm 2026"],  # 13
    [1, "Chi bộ Tổ dân phố 2"],  # 14
    [
        "-",
        "Nuôi ong lấy mật (Bà Nguyễn Thị Mận)",
        1,
        "Tổ dân phố 2",
        "Hội Nông dân",
        "Kinh tế",
        "15 hộ",
        None,
        "x",
    ],  # 15: a model of one person
    ["-", "Vườn rau sạch  an toàn", 2, "Tổ 2", "Chi bộ", "KT", "12 hộ", "X"],  # 16
    [2, "Chi bộ Tổ dân phố 3"],  # 17
    [
        "-",
        "Camera an ninh\ntổ dân phố",
        1,
        "Tổ 3",
        "Chi bộ",
        "Quốc phòng - An ninh",
        "8 camera",
        "x",
    ],
    [3, nfd("Hội LHPN phường")],  # 19
    [
        "-",
        nfd("Phụ nữ giúp nhau thoát nghèo"),
        1,
        "Toàn phường",
        "Hội LHPN",
        "VHXH",
        "30 hội viên",
        "x",
    ],  # 20
    [],
    ["*", "Tổng số mô hình theo lĩnh vực:"],
]

PL4_HUONG_HO: Rows = [
    [1, "Chi bộ Tổ dân phố 1"],  # 9
    [
        "-",
        "Tuyến phố văn minh",
        1,
        "Tổ dân phố 1",
        "Chi bộ",
        "VHXH",
        "210 hộ ký cam kết;\n5 tuyến phố sáng - xanh - sạch",
        None,
        "x",
        "x",
    ],  # 10: kept, results
    [2, "Chi bộ Tổ dân phố 2"],  # 11
    [
        "-",
        "Nuôi ong lấy mật (Bà Nguyễn Thị Mận)",
        1,
        "Tổ dân phố 2",
        "Hội Nông dân",
        "Kinh tế",
        "15 hộ, 2 tấn mật",
        "x",
        None,
        "x",
    ],  # 12: registered as one person's, marked collective here
    ["-", "Vườn rau sạch an toàn", 2, "Tổ 2", "Chi bộ", "KT", "12 hộ", "x", None, "x", "x"],
    [3, "Chi bộ Tổ dân phô 3"],  # 14: one wrong diacritic
    [
        "-",
        "Camera an ninh tổ dân phố",
        1,
        "Tổ 3",
        "Chi bộ",
        "QPAN",
        "8 camera, 0 vụ trộm",
        "x",
        None,
        "x",
    ],  # 15
    ["-", "Loa truyền thanh\ncơ sở", 2, "Tổ 3", "Chi bộ", "VHXH", "3 cụm loa", "x", None, "x"],
    [4, nfd("Hội LHPN phường")],  # 17
    [
        "-",
        nfd("Phụ nữ giúp nhau thoát nghèo"),
        1,
        "Toàn phường",
        "Hội LHPN",
        "VHXH",
        "30 hội viên, 45 triệu đồng",
        "x",
    ],  # 18: neither Tập thể nor Cá nhân
    [
        "-",
        "Câu lạc bộ  dưỡng sinh",
        2,
        "Nhà văn hóa",
        "Hội LHPN",
        "VHXH",
        "40 hội viên",
        "x",
        None,
        "x",
    ],  # 19: new
    [],
    ["*", "Tổng số mô hình theo lĩnh vực:"],
]

PL1_HUONG_VAN: Rows = [
    ["II", "Mô hình đăng ký mới năm 2026"],  # 10
    [1, "Chi bộ Tổ dân phố 1"],  # 11
    ["-", "Ngõ xóm bình yên", 1, "Tổ dân phố 1", "Chi bộ", "QPAN", "45 hộ", "x"],  # 12
    [2, "Hội Cựu chiến binh phường"],  # 13
    [
        "-",
        "Cựu chiến binh giúp nhau làm kinh tế",
        1,
        "Toàn phường",
        "Hội CCB",
        "KT",
        "20 hội viên",
        "x",
    ],
]


def appendix(
    kind: int, header: Sequence[str], title: str, head: Sequence[Any], rows: Rows
) -> Workbook:
    """A sheet in the form's layout: the party header (one line or two) with “Phụ lục N” on
    the right, a blank row, the title, a blank row, two header rows, the (1)…(n) row and the
    “Tổng số” row, then ``rows``."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"PL{kind}"
    width = len(head)
    for i, line in enumerate(header):
        label = f"Phụ lục {kind}" if i == 0 else None
        ws.append([line, *([None] * (width - 3)), label])
    ws.append([])
    ws.append([title])
    ws.append([])
    ws.append(list(head))
    if kind == 1:
        ws.append([None] * 7 + ["Tập thể", "Cá nhân"])
        ws.append([f"({n})" for n in range(1, 9)])
    else:
        ws.append([None] * 7 + ["XD mới", "Duy trì", "Tập thể", "Cá nhân"])
        ws.append([f"({n})" for n in range(1, 10)])
    ws.append([" ", "Tổng số"])
    for row in rows:
        ws.append(list(row))
    return wb


def main() -> None:
    units = Workbook()
    sheet = units.active
    assert sheet is not None
    for row in UNITS:
        sheet.append(list(row))
    units.save(HERE / "don_vi_huong_tra.xlsx")
    pl1 = "BIỂU TỔNG HỢP ĐĂNG KÝ XÂY DỰNG MỚI MÔ HÌNH “DÂN VẬN KHÉO” NĂM 2026"
    pl4 = "BIỂU TỔNG HỢP BÁO CÁO KẾT QUẢ XÂY DỰNG, DUY TRÌ MÔ HÌNH “DÂN VẬN KHÉO” NĂM 2026"
    appendix(
        1, ["ĐẢNG BỘ THỊ XÃ HƯƠNG TRÀ", "ĐẢNG ỦY PHƯỜNG HƯƠNG HỒ"], pl1, PL1_HEAD, PL1_HUONG_HO
    ).save(HERE / "phu_luc_1_huong_ho.xlsx")
    appendix(4, ["ĐẢNG ỦY PHƯỜNG HƯƠNG HỒ"], pl4, PL4_HEAD, PL4_HUONG_HO).save(
        HERE / "phu_luc_4_huong_ho.xlsx"
    )
    appendix(
        1, ["ĐẢNG BỘ THỊ XÃ HƯƠNG TRÀ", "ĐẢNG UỶ PHƯỜNG HƯƠNG VĂN"], pl1, PL1_HEAD, PL1_HUONG_VAN
    ).save(HERE / "phu_luc_1_huong_van.xlsx")


if __name__ == "__main__":
    main()
