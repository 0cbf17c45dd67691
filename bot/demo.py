"""`dvk demo`: a realistic ward to try the assistant on, without any platform account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.terminal import CHANNEL as TERMINAL
from domain.catalog import Field, Origin, Subject
from storage import repo
from storage.models import DvkModel, ModelYear, Unit

WARD = "Đảng bộ phường Minh Khai"
CHILDREN = (
    ("Chi bộ Tổ dân phố 1", "chi_bo"),
    ("Chi bộ Tổ dân phố 2", "chi_bo"),
    ("Chi bộ Trường Tiểu học Minh Khai", "chi_bo"),
    ("Ủy ban MTTQ phường", "doan_the"),
    ("Hội Nông dân phường", "doan_the"),
    ("Hội Liên hiệp Phụ nữ phường", "doan_the"),
    ("Đoàn Thanh niên phường", "doan_the"),
    ("Hội Cựu chiến binh phường", "doan_the"),
)
# (unit, name, field, subject, subject name, place, lead body, scale)
LAST_YEAR = (
    (
        "Hội Liên hiệp Phụ nữ phường",
        "Tiết kiệm vì phụ nữ nghèo",
        Field.KT,
        Subject.COLLECTIVE,
        "Chi hội Phụ nữ Tổ dân phố 3",
        "Tổ dân phố 3",
        "Hội LHPN",
        "45 hội viên, 120 triệu đồng",
    ),
    (
        "Hội Nông dân phường",
        "Tổ hợp tác trồng rau an toàn",
        Field.KT,
        Subject.COLLECTIVE,
        "Tổ hợp tác rau Minh Khai",
        "Tổ dân phố 5",
        "Hội Nông dân",
        "12 hộ, 3 ha",
    ),
    (
        "Chi bộ Tổ dân phố 1",
        "Tuyến phố văn minh, sạch đẹp",
        Field.VHXH,
        Subject.COLLECTIVE,
        "Chi bộ Tổ dân phố 1",
        "Tổ dân phố 1",
        "Chi bộ",
        "1,2 km đường, 210 hộ",
    ),
    (
        "Hội Cựu chiến binh phường",
        "Camera an ninh khu dân cư",
        Field.QPAN,
        Subject.COLLECTIVE,
        "Chi hội CCB Tổ dân phố 2",
        "Tổ dân phố 2",
        "Hội Cựu chiến binh",
        "16 camera, 300 hộ",
    ),
    (
        "Đoàn Thanh niên phường",
        "Thanh niên hỗ trợ dịch vụ công trực tuyến",
        Field.XDD,
        Subject.COLLECTIVE,
        "Đoàn Thanh niên phường",
        "Bộ phận một cửa phường",
        "Đoàn Thanh niên",
        "850 lượt hỗ trợ",
    ),
)
THIS_YEAR = (
    (
        "Hội Liên hiệp Phụ nữ phường",
        "Phụ nữ khởi nghiệp với sản phẩm OCOP",
        Field.KT,
        Subject.COLLECTIVE,
        "Câu lạc bộ Nữ khởi nghiệp",
        "Phường Minh Khai",
        "Hội LHPN",
        "25 hội viên, 4 sản phẩm",
    ),
    (
        "Hội Liên hiệp Phụ nữ phường",
        "Bữa cơm gia đình không bạo lực",
        Field.VHXH,
        Subject.COLLECTIVE,
        "Chi hội Phụ nữ Tổ dân phố 4",
        "Tổ dân phố 4",
        "Hội LHPN",
        "60 hộ",
    ),
    (
        "Chi bộ Tổ dân phố 2",
        "Chi bộ lắng nghe dân nói",
        Field.XDD,
        Subject.COLLECTIVE,
        "Chi bộ Tổ dân phố 2",
        "Tổ dân phố 2",
        "Chi bộ",
        "12 buổi đối thoại, 400 lượt người dân",
    ),
    (
        "Chi bộ Trường Tiểu học Minh Khai",
        "Thư viện xanh cho học sinh",
        Field.VHXH,
        Subject.COLLECTIVE,
        "Chi bộ Trường Tiểu học Minh Khai",
        "Trường Tiểu học Minh Khai",
        "Chi bộ",
        "1.200 đầu sách, 640 học sinh",
    ),
    (
        "Hội Cựu chiến binh phường",
        "Cựu chiến binh gương mẫu giữ gìn an ninh trật tự",
        Field.QPAN,
        Subject.INDIVIDUAL,
        "Ông Lê Văn Bảy",
        "Tổ dân phố 6",
        "Hội Cựu chiến binh",
        "Vận động 35 hộ ký cam kết",
    ),
    (
        "Ủy ban MTTQ phường",
        "Hiến đất mở rộng ngõ xóm",
        Field.OTHER,
        Subject.COLLECTIVE,
        "Ban công tác Mặt trận Tổ dân phố 5",
        "Tổ dân phố 5",
        "MTTQ",
        "18 hộ hiến 240 m² đất",
    ),
    (
        "Hội Nông dân phường",
        "Nông dân chuyển đổi số bán hàng trực tuyến",
        Field.KT,
        Subject.INDIVIDUAL,
        "Bà Phạm Thị Hoa",
        "Tổ dân phố 5",
        "Hội Nông dân",
        "Doanh thu 300 triệu",
    ),
)
PEOPLE = (
    ("canbo", "Nguyễn Thị Lan", "Hội Liên hiệp Phụ nữ phường", "officer"),
    ("lanhdao", "Trần Văn Hùng", WARD, "leader"),
    ("quantri", "Hoàng Minh Đức", WARD, "admin"),
)


@dataclass(frozen=True)
class DemoResult:
    created: bool
    units: int
    models: int
    invites: dict[str, str]


async def load_demo(session: AsyncSession, now: datetime, tz: ZoneInfo) -> DemoResult:
    year = now.astimezone(tz).year
    existing = await session.scalar(select(Unit).where(Unit.name == WARD))
    if existing is not None:
        return DemoResult(False, 0, 0, {})
    ward = await repo.add_unit(session, WARD, "phuong", None, now)
    units = {WARD: ward}
    for name, kind in CHILDREN:
        units[name] = await repo.add_unit(session, name, kind, ward, now)
    count = 0
    for rows, record_year in ((LAST_YEAR, year - 1), (THIS_YEAR, year)):
        for unit_name, name, field, subject, subject_name, place, lead, scale in rows:
            model = DvkModel(unit_id=units[unit_name].id, created_at=now)
            session.add(model)
            await session.flush()
            session.add(
                ModelYear(
                    model_id=model.id,
                    year=record_year,
                    origin=Origin.NEW.value,
                    name=name,
                    field=field.value,
                    field_other="Xây dựng đô thị văn minh" if field == Field.OTHER else None,
                    subject=subject.value,
                    subject_name=subject_name,
                    place=place,
                    lead_body=lead,
                    scale=scale,
                    created_at=now,
                    updated_at=now,
                )
            )
            count += 1
    for account, full_name, unit_name, role in PEOPLE:
        person = await repo.create_person(session, full_name, TERMINAL, account, None, now)
        await repo.add_membership(session, person, units[unit_name], role, now)
    invites = {}
    for label, unit_name, role in (
        ("cán bộ Hội LHPN", "Hội Liên hiệp Phụ nữ phường", "officer"),
        ("cán bộ Chi bộ Tổ dân phố 1", "Chi bộ Tổ dân phố 1", "officer"),
        ("lãnh đạo phường", WARD, "leader"),
    ):
        invite = await repo.create_invite(session, units[unit_name], role, 20, 30, now)
        invites[label] = invite.code
    await session.flush()
    return DemoResult(True, len(units), count, invites)
