"""The demo ward's data for `dvk demo` (bot/demo.py): its units, people, and the models of
last year, this year and next year, each step dated in days from the deadline it belongs to
(negative: before it), so that the demo built on any date holds what a real ward would have
by then."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.calendar import CONSOLIDATED, EVALUATION, UNIT_REPORT
from domain.catalog import Field, Review, Subject

WARD = "Đảng bộ phường Minh Khai"
WOMEN = "Hội Liên hiệp Phụ nữ phường"
FARMERS = "Hội Nông dân phường"
VETERANS = "Hội Cựu chiến binh phường"
YOUTH = "Đoàn Thanh niên phường"
FRONT = "Ủy ban MTTQ phường"
CELL1 = "Chi bộ Tổ dân phố 1"
CELL2 = "Chi bộ Tổ dân phố 2"
SCHOOL = "Chi bộ Trường Tiểu học Minh Khai"
CHILDREN = (
    (CELL1, "chi_bo"),
    (CELL2, "chi_bo"),
    (SCHOOL, "chi_bo"),
    (FRONT, "doan_the"),
    (FARMERS, "doan_the"),
    (WOMEN, "doan_the"),
    (YOUTH, "doan_the"),
    (VETERANS, "doan_the"),
)
# (terminal account, full name, unit, role)
PEOPLE = (
    ("canbo", "Nguyễn Thị Lan", WOMEN, "officer"),
    ("lanhdao", "Trần Văn Hùng", WARD, "leader"),
    ("quantri", "Hoàng Minh Đức", WARD, "admin"),
)
# (label, unit, role) of the invite codes printed
INVITES = (
    ("cán bộ Hội LHPN", WOMEN, "officer"),
    ("cán bộ Chi bộ Tổ dân phố 1", CELL1, "officer"),
    ("lãnh đạo phường", WARD, "leader"),
)
# The ward's own plan (Kế hoạch của Đảng ủy phường (2025)) sets these deadlines for its units:
# the dates of the calendar, as the plan has them.
WARD_PLAN = (UNIT_REPORT, CONSOLIDATED)
OTHER_FIELD = "Xây dựng đô thị văn minh"

# Points of the rubric taken off the maximum, by criterion: "pass" keeps criteria 2, 7, 9,
# 11 and 15 at their maximum; "short" misses criterion 9 (not recognisable).
SCORE_PROFILES: dict[str, dict[int, str]] = {
    "pass": {4: "1", 6: "1.5", 8: "0.5"},
    "good": {5: "1", 12: "0.5"},
    "short": {3: "2", 9: "2", 13: "1"},
}


@dataclass(frozen=True)
class Intro:
    """The five parts of a typical model's introduction (Hướng dẫn giới thiệu mô hình
    (Quảng Ngãi))."""

    basis: str
    scope: str
    method: str
    results: str
    replication: str


@dataclass(frozen=True)
class Model:
    """What a model is, from one year to the next (a kept model may change its place)."""

    unit: str
    name: str
    field: Field
    subject: Subject
    subject_name: str
    place: str
    lead: str


@dataclass(frozen=True)
class Spec:
    """A model's record in one year and what happens to it, dated from the deadlines."""

    model: Model
    scale: str
    registered: int  # days from the registration deadline (next year: from this year's 15/11)
    kept: bool = False  # continues the unit's model of the same name of the year before
    results: str | None = None
    evaluated: int = 0  # days from the evaluation deadline: results and scores entered
    by_leader: bool = False  # entered by the leader (after the deadline)
    score: str = "pass"
    proposed: bool = False  # proposed for recognition on the day it was evaluated
    review: Review | None = None
    reviewed: int = 0  # days from the evaluation deadline
    intro: Intro | None = None


# The models units keep from one year to the next.
VEGETABLES = Model(
    FARMERS,
    "Tổ hợp tác trồng rau an toàn",
    Field.KT,
    Subject.COLLECTIVE,
    "Tổ hợp tác rau Minh Khai",
    "Tổ dân phố 5",
    "Hội Nông dân",
)
CAMERAS = Model(
    VETERANS,
    "Camera an ninh khu dân cư",
    Field.QPAN,
    Subject.COLLECTIVE,
    "Chi hội CCB Tổ dân phố 2",
    "Tổ dân phố 2",
    "Hội Cựu chiến binh",
)
OCOP = Model(
    WOMEN,
    "Phụ nữ khởi nghiệp với sản phẩm OCOP",
    Field.KT,
    Subject.COLLECTIVE,
    "Câu lạc bộ Nữ khởi nghiệp",
    "Phường Minh Khai",
    "Hội LHPN",
)
LISTENING = Model(
    CELL2,
    "Chi bộ lắng nghe dân nói",
    Field.XDD,
    Subject.COLLECTIVE,
    "Chi bộ Tổ dân phố 2",
    "Tổ dân phố 2",
    "Chi bộ",
)
LAND = Model(
    FRONT,
    "Hiến đất mở rộng ngõ xóm",
    Field.OTHER,
    Subject.COLLECTIVE,
    "Ban công tác Mặt trận Tổ dân phố 5",
    "Tổ dân phố 5",
    "MTTQ",
)

LAST_YEAR = (
    Spec(
        Model(
            WOMEN,
            "Tiết kiệm vì phụ nữ nghèo",
            Field.KT,
            Subject.COLLECTIVE,
            "Chi hội Phụ nữ Tổ dân phố 3",
            "Tổ dân phố 3",
            "Hội LHPN",
        ),
        "45 hội viên, 120 triệu đồng",
        -52,
        results="45 hội viên góp 120 triệu đồng, 9 hộ vay vốn thoát nghèo",
        evaluated=-12,
        proposed=True,
        review=Review.RECOGNISED,
        reviewed=6,
    ),
    Spec(
        VEGETABLES,
        "12 hộ, 3 ha",
        -20,
        results="12 hộ, 3 ha rau đạt chứng nhận VietGAP, thu nhập tăng 20%",
        evaluated=-5,
        proposed=True,
        review=Review.RECOGNISED,
        reviewed=6,
    ),
    Spec(
        Model(
            CELL1,
            "Tuyến phố văn minh, sạch đẹp",
            Field.VHXH,
            Subject.COLLECTIVE,
            "Chi bộ Tổ dân phố 1",
            "Tổ dân phố 1",
            "Chi bộ",
        ),
        "1,2 km đường, 210 hộ",
        -35,
        results="1,2 km đường có đèn và cây xanh, 210 hộ ký cam kết",
        evaluated=-9,
        score="good",
    ),
    Spec(
        CAMERAS,
        "16 camera, 300 hộ",
        -8,
        results="16 camera, 3 vụ trộm cắp được phát hiện",
        evaluated=-3,
        proposed=True,
        review=Review.NOT_RECOGNISED,
        reviewed=8,
        score="short",
    ),
    Spec(
        Model(
            YOUTH,
            "Thanh niên hỗ trợ dịch vụ công trực tuyến",
            Field.XDD,
            Subject.COLLECTIVE,
            "Đoàn Thanh niên phường",
            "Bộ phận một cửa phường",
            "Đoàn Thanh niên",
        ),
        "850 lượt hỗ trợ",
        3,
        results="850 lượt người dân được hướng dẫn nộp hồ sơ trực tuyến",
        evaluated=5,
        by_leader=True,
    ),
)

OCOP_INTRO = Intro(
    basis="Nhiều chị em có nghề làm bánh, muối dưa truyền thống nhưng chưa có thương hiệu, "
    "bán nhỏ lẻ, thu nhập bấp bênh.",
    scope="25 hội viên của 4 chi hội, sản phẩm bán trong và ngoài phường.",
    method="Hội LHPN phường lập câu lạc bộ, mời chuyên gia hướng dẫn làm hồ sơ OCOP, kết nối "
    "ngân hàng chính sách cho vay vốn, mở gian hàng trên sàn thương mại điện tử.",
    results="4 sản phẩm đạt OCOP 3 sao, thu nhập bình quân của thành viên tăng 2,5 triệu "
    "đồng/tháng.",
    replication="Có thể nhân rộng ở các hội cơ sở có nghề truyền thống; cần một người "
    "hướng dẫn làm hồ sơ và một khoản vốn vay ban đầu.",
)
LISTEN_INTRO = Intro(
    basis="Ý kiến của người dân về vệ sinh, trật tự ngõ xóm trước đây chỉ được nghe ở hội "
    "nghị cuối năm.",
    scope="Toàn bộ 400 hộ của Tổ dân phố 2.",
    method="Mỗi tháng chi bộ tổ chức một buổi đối thoại ở nhà văn hóa; ý kiến được ghi sổ, "
    "giao đảng viên phụ trách và trả lời ở buổi sau.",
    results="12 buổi đối thoại, 400 lượt người dân dự, 37 ý kiến được giải quyết dứt điểm.",
    replication="Áp dụng được ở mọi chi bộ tổ dân phố; chỉ cần sổ ghi ý kiến và lịch cố định.",
)

THIS_YEAR = (
    Spec(
        Model(
            WARD,
            "Ngày thứ Bảy lắng nghe ý kiến nhân dân",
            Field.XDD,
            Subject.COLLECTIVE,
            "Đảng ủy, Ủy ban nhân dân phường",
            "Trụ sở Ủy ban nhân dân phường",
            "UBND",
        ),
        "24 buổi tiếp dân",
        -100,  # with the ward's plan, early in the year
        results="24 buổi tiếp dân, 96 kiến nghị được trả lời trong 7 ngày",
        evaluated=-7,
    ),
    Spec(
        OCOP,
        "25 hội viên, 4 sản phẩm",
        -80,
        results="4 sản phẩm đạt OCOP 3 sao, 25 hội viên tăng thu nhập",
        evaluated=-20,
        proposed=True,
        review=Review.RECOGNISED,
        reviewed=6,
        intro=OCOP_INTRO,
    ),
    Spec(
        Model(
            WOMEN,
            "Bữa cơm gia đình không bạo lực",
            Field.VHXH,
            Subject.COLLECTIVE,
            "Chi hội Phụ nữ Tổ dân phố 4",
            "Tổ dân phố 4",
            "Hội LHPN",
        ),
        "60 hộ",
        -48,
        results="60 hộ tham gia, không còn vụ bạo lực gia đình nào trong năm",
        evaluated=-18,
        proposed=True,
    ),
    Spec(
        Model(
            WOMEN,
            "Tổ phụ nữ tự quản vệ sinh môi trường",
            Field.VHXH,
            Subject.COLLECTIVE,
            "Chi hội Phụ nữ Tổ dân phố 6",
            "Tổ dân phố 6",
            "Hội LHPN",
        ),
        "30 hội viên, 2 tuyến ngõ",
        -30,
        results="2 tuyến ngõ sạch, 30 hội viên thu gom rác mỗi tuần",
        evaluated=-15,
        score="good",
    ),
    Spec(
        Model(
            WOMEN,
            "Câu lạc bộ dinh dưỡng cho bà mẹ và trẻ em",
            Field.VHXH,
            Subject.COLLECTIVE,
            "Chi hội Phụ nữ Tổ dân phố 1",
            "Tổ dân phố 1",
            "Hội LHPN",
        ),
        "40 bà mẹ",
        -5,
        results="40 bà mẹ được hướng dẫn dinh dưỡng, tỷ lệ trẻ suy dinh dưỡng giảm còn 3%",
        evaluated=-6,
        score="short",
    ),
    Spec(
        Model(
            WOMEN,
            "Phụ nữ giúp nhau phát triển kinh tế",
            Field.KT,
            Subject.INDIVIDUAL,
            "Bà Đỗ Thị Mai",
            "Tổ dân phố 3",
            "Hội LHPN",
        ),
        "Giúp 6 hộ vay vốn",
        6,
        results="6 hộ được giúp vốn và cây giống, 2 hộ thoát nghèo",
        evaluated=-2,
    ),
    Spec(
        LISTENING,
        "12 buổi đối thoại, 400 lượt người dân",
        -40,
        results="12 buổi đối thoại, 37 ý kiến được giải quyết",
        evaluated=4,  # within the extension the ward granted it
        proposed=True,
        review=Review.RECOGNISED,
        reviewed=14,
        intro=LISTEN_INTRO,
    ),
    Spec(
        Model(
            SCHOOL,
            "Thư viện xanh cho học sinh",
            Field.VHXH,
            Subject.COLLECTIVE,
            "Chi bộ Trường Tiểu học Minh Khai",
            "Trường Tiểu học Minh Khai",
            "Chi bộ",
        ),
        "1.200 đầu sách, 640 học sinh",
        -25,
        results="1.200 đầu sách, 640 học sinh mượn đọc mỗi tháng",
        evaluated=-8,
        score="good",
        proposed=True,  # waiting for the leader's decision
    ),
    Spec(
        CAMERAS,
        "20 camera, 350 hộ",
        -15,
        kept=True,
        results="20 camera, không còn vụ trộm cắp nào trong khu dân cư",
        evaluated=-4,
    ),
    Spec(
        Model(
            VETERANS,
            "Cựu chiến binh gương mẫu giữ gìn an ninh trật tự",
            Field.QPAN,
            Subject.INDIVIDUAL,
            "Ông Lê Văn Bảy",
            "Tổ dân phố 6",
            "Hội Cựu chiến binh",
        ),
        "Vận động 35 hộ ký cam kết",
        -12,
        results="35 hộ ký cam kết, hòa giải thành 4 vụ mâu thuẫn",
        evaluated=-4,
        proposed=True,
        review=Review.NOT_RECOGNISED,
        reviewed=6,
        score="short",
    ),
    Spec(
        LAND,
        "18 hộ hiến 240 m² đất",
        -55,
        results="18 hộ hiến 240 m² đất, ngõ mở rộng lên 4 m",
        evaluated=-10,
        proposed=True,
        review=Review.RECOGNISED,
        reviewed=6,
    ),
    Spec(
        VEGETABLES,
        "15 hộ, 4 ha",
        -3,
        kept=True,
        results="15 hộ, 4 ha rau VietGAP",
        evaluated=12,  # late: entered by the leader after the deadline
        by_leader=True,
    ),
    Spec(
        Model(
            FARMERS,
            "Nông dân chuyển đổi số bán hàng trực tuyến",
            Field.KT,
            Subject.INDIVIDUAL,
            "Bà Phạm Thị Hoa",
            "Tổ dân phố 5",
            "Hội Nông dân",
        ),
        "Doanh thu 300 triệu",
        10,  # registered after the deadline
        results="Doanh thu 300 triệu đồng, hướng dẫn 12 hộ bán hàng trực tuyến",
        evaluated=30,  # still missing when the consolidated report goes up
        by_leader=True,
    ),
    Spec(
        Model(
            YOUTH,
            "Thanh niên tình nguyện giúp người cao tuổi dùng điện thoại thông minh",
            Field.VHXH,
            Subject.COLLECTIVE,
            "Chi đoàn Tổ dân phố 4",
            "Tổ dân phố 4",
            "Đoàn Thanh niên",
        ),
        "30 đoàn viên, 150 người cao tuổi",
        20,  # the unit registered late
        results="150 người cao tuổi biết gọi video, cài VNeID",
        evaluated=-1,
    ),
)

# Registered for next year once this year's evaluation deadline has come (days from it).
NEXT_YEAR = (
    Spec(
        OCOP,
        "35 hội viên, 6 sản phẩm",
        0,
        kept=True,
    ),
    Spec(
        replace(LAND, place="Tổ dân phố 5, 6"),
        "25 hộ",
        3,
        kept=True,
    ),
    Spec(
        Model(
            WOMEN,
            "Chợ dân sinh không rác thải nhựa",
            Field.VHXH,
            Subject.COLLECTIVE,
            "Chi hội Phụ nữ Tổ dân phố 5",
            "Chợ Minh Khai",
            "Hội LHPN",
        ),
        "80 tiểu thương",
        12,
    ),
    Spec(
        LISTENING,
        "12 buổi đối thoại",
        21,
        kept=True,
    ),
)

# Deadlines the ward reopened for one unit: (unit, kind, granted, until), days from the
# deadline.
EXTENSIONS = ((CELL2, EVALUATION, 1, 7),)
# The day each unit marked its yearly report sent, in days from its 25/11 deadline; the
# ward's consolidated report, from its 5/12 deadline.
REPORTS = {
    WARD: -1,
    CELL1: -6,
    CELL2: -2,
    SCHOOL: -4,
    FRONT: -3,
    FARMERS: 4,  # late
    WOMEN: -5,
    YOUTH: 18,  # late past the consolidated report
    VETERANS: 8,  # late
}
CONSOLIDATED_SENT = 0
