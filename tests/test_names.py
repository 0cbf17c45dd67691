"""The one rule by which a typed name finds a unit or a model (domain.text.match_names), and
the repository's and the command line's use of it, on SQLite and PostgreSQL."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.text import closest_names, match_names, name_key, name_match, one_line
from storage import unit_tree
from storage.units import find_units_by_name, lookup_unit

NOW = datetime(2026, 3, 2, tzinfo=UTC)
VAN, VAN2 = "Đảng bộ phường Hương Văn", "Đảng bộ phường Hương Vân"


def same(text: str) -> str:
    return text


def test_names_one_diacritic_apart_are_two_names() -> None:
    assert name_match(VAN, VAN) == "exact"
    assert name_match(VAN, VAN2) is None
    assert name_match("  đảng bộ PHƯỜNG\nhương   văn ", VAN) == "exact"
    assert name_match(unicodedata.normalize("NFD", VAN), VAN) == "exact"
    # Typed without diacritics: both, so neither alone.
    assert name_match("dang bo phuong huong van", VAN) == "loose"
    assert name_match("dang bo phuong huong van", VAN2) == "loose"
    assert match_names("dang bo phuong huong van", [VAN, VAN2], same).found == (VAN, VAN2)
    # An exact name wins over a name that only matches without diacritics.
    assert match_names(VAN, [VAN2, VAN], same).found == (VAN,)
    # A word typed with a mark must be the name's word: one wrong diacritic is another name.
    assert name_match("Chi bộ Tổ dân phô 3", "Chi bộ Tổ dân phố 3") is None
    assert name_match("Chi bo Tổ dân phố 3", "Chi bộ Tổ dân phố 3") == "loose"


def test_old_and_new_tone_placement_and_old_d_are_one_name() -> None:
    assert name_key("Đảng uỷ phường Thuỷ Xuân") == name_key("Đảng ủy phường Thủy Xuân")
    assert name_match("Hoà Bình", "Hòa Bình") == "exact"
    assert name_match("ÐẢNG BỘ", "Đảng bộ") == "exact"  # Ð (U+00D0) typed for Đ


def test_parts_and_suggestions() -> None:
    names = ["Đảng bộ phường Minh Khai", "Chi bộ Tổ dân phố 2", "Chi bộ Tổ dân phố 3"]
    assert match_names("minh khai", names, same).found == ()
    assert match_names("minh khai", names, same, partial=True).found == (names[0],)
    assert match_names("khai", names, same, partial=True).how == "partial"
    assert match_names("hai", names, same, partial=True).found == ()  # whole words only
    near = closest_names("Chi bộ Tổ dân phô 3", names, same)
    assert [n for n, _ in near] == ["Chi bộ Tổ dân phố 3", "Chi bộ Tổ dân phố 2"]
    assert near[0][1] == 1.0
    assert closest_names("Hội Nông dân", names, same) == []


def test_one_line() -> None:
    assert one_line("Tuyến phố\nvăn  minh\u200b ") == "Tuyến phố văn minh"
    assert one_line(unicodedata.normalize("NFD", "Hội LHPN")) == "Hội LHPN"


async def test_the_repository_finds_units_by_the_same_rule(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as s, s.begin():
        top = await unit_tree.add_unit(s, "Thị xã Hương Trà", "huyen", None, NOW)
        van = await unit_tree.add_unit(s, VAN, "phuong", top, NOW)
        van2 = await unit_tree.add_unit(s, VAN2, "phuong", top, NOW)
        cell = await unit_tree.add_unit(s, "Chi bộ Tổ dân phố 1", "chi_bo", van, NOW)
        cell2 = await unit_tree.add_unit(s, "Chi bộ Tổ dân phố 1", "chi_bo", van2, NOW)
    async with sessionmaker() as s:
        assert [u.id for u in await find_units_by_name(s, VAN)] == [van.id]
        assert {u.id for u in await find_units_by_name(s, "huong van", partial=True)} == {
            van.id,
            van2.id,
        }
        inside = await find_units_by_name(s, "Chi bộ Tổ dân phố 1", within=van2)
        assert [u.id for u in inside] == [cell2.id]
        found = await lookup_unit(s, "Chi bộ Tổ dân phố 1")
        assert found.problem() == (
            "có 2 đơn vị khớp “Chi bộ Tổ dân phố 1”: Thị xã Hương Trà / Đảng bộ phường Hương "
            f"Văn / Chi bộ Tổ dân phố 1 (mã {cell.id}); Thị xã Hương Trà / Đảng bộ phường "
            f"Hương Vân / Chi bộ Tổ dân phố 1 (mã {cell2.id}); hãy ghi đường dẫn đầy đủ (Cấp "
            "trên / Tên) hoặc mã số"
        )
        by_path = await lookup_unit(s, f"{VAN2} / Chi bộ Tổ dân phố 1")
        assert (by_path.unit and by_path.unit.id, by_path.how) == (cell2.id, "path")
        by_id = await lookup_unit(s, str(cell.id))
        assert by_id.unit is not None
        assert by_id.unit.id == cell.id
        missing = await lookup_unit(s, "Đảng bộ phường Hương Vấn")
        assert missing.problem() == (
            "không tìm thấy đơn vị “Đảng bộ phường Hương Vấn”; gần giống: Thị xã Hương Trà / "
            f"{VAN} (mã {van.id}); Thị xã Hương Trà / {VAN2} (mã {van2.id})"
        )
