"""Plain words outside a flow: a table of the way officers and leaders really write, with and
without diacritics, with typos, with polite particles, and the intent each must reach."""

from __future__ import annotations

import pytest

from handlers.help import ALL_COMMANDS
from handlers.intents import catalogue, closest_command, understand

INTENTS = catalogue(ALL_COMMANDS)

# (what was typed, the intent it asks for; None: nothing the assistant can route)
TABLE: tuple[tuple[str, str | None], ...] = (
    # greetings
    ("xin chào", "greeting"),
    ("Xin chào!", "greeting"),
    ("xin chao", "greeting"),
    ("chào", "greeting"),
    ("Chào đồng chí", "greeting"),
    ("chao ban", "greeting"),
    ("hello", "greeting"),
    ("Hi", "greeting"),
    ("alo", "greeting"),
    ("alo alo", "greeting"),
    ("Chào buổi sáng", "greeting"),
    ("chào bot", "greeting"),
    ("Kính chào trợ lý", "greeting"),
    ("chào em", "greeting"),
    ("Chào anh", "greeting"),
    # thanks
    ("cảm ơn", "thanks"),
    ("Cảm ơn nhiều", "thanks"),
    ("cam on", "thanks"),
    ("cám ơn", "thanks"),
    ("cảm ơn em", "thanks"),
    ("ok cảm ơn", "thanks"),
    ("thanks", "thanks"),
    ("tks", "thanks"),
    ("Cảm ơn đồng chí", "thanks"),
    ("cam on nhe", "thanks"),
    ("Đã nhận, cảm ơn", "thanks"),
    # when a deadline is
    ("hạn chót khi nào?", "deadline"),
    ("han chot khi nao", "deadline"),
    ("Hạn chót là khi nào vậy?", "deadline"),
    ("bao giờ nộp báo cáo", "deadline"),
    ("bao gio nop bao cao", "deadline"),
    ("Khi nào hết hạn?", "deadline"),
    ("bao giờ hết hạn đăng ký", "deadline"),
    ("hạn đăng ký", "deadline"),
    ("Hạn đăng ký mô hình khi nào", "deadline"),
    ("hạn nộp", "deadline"),
    ("hạn báo cáo", "deadline"),
    ("khi nào nộp báo cáo ạ", "deadline"),
    ("ngày nào phải nộp", "deadline"),
    ("hạn đánh giá", "deadline"),
    ("thời hạn", "deadline"),
    ("han cuoi", "deadline"),
    ("hạn chót", "deadline"),
    ("han chott khi nao", "deadline"),
    ("cho hỏi hạn chót khi nào", "deadline"),
    ("Đồng chí ơi, hạn chót khi nào vậy ạ?", "deadline"),
    # how to register
    ("làm sao đăng ký?", "how_to_register"),
    ("lam sao dang ky", "how_to_register"),
    ("Làm thế nào để đăng ký", "how_to_register"),
    ("cách đăng ký", "how_to_register"),
    ("đăng ký thế nào", "how_to_register"),
    ("dang ky nhu the nao", "how_to_register"),
    ("hướng dẫn đăng ký", "how_to_register"),
    ("đăng ký mô hình thế nào vậy", "how_to_register"),
    ("cách đăng ký mô hình", "how_to_register"),
    ("Làm sao để đăng ký mô hình ạ", "how_to_register"),
    # what is left for my unit
    ("còn thiếu gì", "owed"),
    ("con thieu gi", "owed"),
    ("Đơn vị còn thiếu gì?", "owed"),
    ("đơn vị tôi còn thiếu gì", "owed"),
    ("còn phải làm gì", "owed"),
    ("cần làm gì", "owed"),
    ("việc còn thiếu", "owed"),
    ("còn việc gì không", "owed"),
    ("phải làm gì tiếp", "owed"),
    ("đã đủ chưa", "owed"),
    ("Đơn vị em đã đủ chưa ạ", "owed"),
    # my models
    ("mô hình của tôi", "mohinh"),
    ("xem mô hình", "mohinh"),
    ("xem mo hinh", "mohinh"),
    ("danh sách mô hình", "mohinh"),
    ("các mô hình đã đăng ký", "mohinh"),
    ("mô hình đã đăng ký", "mohinh"),
    ("sửa mô hình", "mohinh"),
    ("rút mô hình", "mohinh"),
    ("mohinh", "mohinh"),
    ("mo hinh", "mohinh"),
    # commands typed without the slash
    ("dang ky", "dangky"),
    ("dangky", "dangky"),
    ("đăng ký", "dangky"),
    ("Đăng ký mô hình", "dangky"),
    ("đăng kí", "dangky"),
    ("dang ki", "dangky"),
    ("tôi muốn đăng ký mô hình", "dangky"),
    ("đăng ký mô hình mới", "dangky"),
    ("thêm mô hình", "dangky"),
    ("tong hop", "tonghop"),
    ("tổng hợp", "tonghop"),
    ("tonghop", "tonghop"),
    ("tình hình các đơn vị", "tonghop"),
    ("Tình hình thế nào", "tonghop"),
    ("báo cáo tình hình", "tonghop"),
    ("tiến độ", "tonghop"),
    ("thống kê", "tonghop"),
    ("kết quả", "ketqua"),
    ("nhập kết quả", "ketqua"),
    ("nhap ket qua mo hinh", "ketqua"),
    ("ketqua", "ketqua"),
    ("chấm điểm", "chamdiem"),
    ("tu cham diem", "chamdiem"),
    ("chamdiem", "chamdiem"),
    ("Chấm điểm mô hình", "chamdiem"),
    ("đề xuất", "dexuat"),
    ("de xuat cong nhan", "dexuat"),
    ("đề nghị công nhận", "dexuat"),
    ("duyệt", "duyet"),
    ("duyet mo hinh", "duyet"),
    ("xét duyệt", "duyet"),
    ("mô hình chờ duyệt", "duyet"),
    ("lịch", "lich"),
    ("xem lich", "lich"),
    ("các hạn", "lich"),
    ("báo cáo", "baocao"),
    ("bao cao", "baocao"),
    ("đã gửi báo cáo", "baocao"),
    ("nộp báo cáo", "baocao"),
    ("nhắc nhở", "nhacnho"),
    ("tắt nhắc", "nhacnho"),
    ("bat nhac nho", "nhacnho"),
    ("đổi hạn", "hanchot"),
    ("doi han chot", "hanchot"),
    ("hanchot", "hanchot"),
    ("minh chứng", "minhchung"),
    ("gửi ảnh", "minhchung"),
    ("gui minh chung", "minhchung"),
    ("giới thiệu mô hình", "gioithieu"),
    ("gioi thieu", "gioithieu"),
    ("liên kết tài khoản", "lienket"),
    ("lien ket", "lienket"),
    ("văn bản chỉ đạo", "vanban"),
    ("ghi van ban", "vanban"),
    # a workbook by name
    ("xuất phụ lục 1", "xuat"),
    ("xuat phu luc 1", "xuat"),
    ("phụ lục 4", "xuat"),
    ("lấy biểu chấm điểm", "xuat"),
    ("xuất biểu 1 năm 2025", "xuat"),
    ("lay bieu", "xuat"),
    ("file excel", "xuat"),
    ("xuat file", "xuat"),
    ("bảng tổng hợp", "xuat"),
    # leaders: who has not done it
    ("đơn vị nào chưa nộp báo cáo?", "not_reported"),
    ("don vi nao chua nop bao cao", "not_reported"),
    ("ai chưa nộp báo cáo", "not_reported"),
    ("đơn vị nào chưa báo cáo", "not_reported"),
    ("những đơn vị chưa gửi báo cáo", "not_reported"),
    ("đơn vị nào chưa đăng ký", "not_registered"),
    ("ai chưa đăng ký", "not_registered"),
    ("don vi nao chua dang ky mo hinh", "not_registered"),
    ("những đơn vị chưa đăng ký", "not_registered"),
    # help and cancel
    ("trợ giúp", "help"),
    ("hướng dẫn", "help"),
    ("hướng dẫn sử dụng", "help"),
    ("menu", "help"),
    ("các lệnh", "help"),
    ("help", "help"),
    ("tôi không biết làm gì", "help"),
    ("dùng thế nào", "help"),
    ("hủy", "cancel"),
    ("huy", "cancel"),
    ("hủy bỏ", "cancel"),
    ("thôi", "cancel"),
    # nothing to route
    ("Hôm nay trời đẹp quá", None),
    ("123456", None),
    ("ok", None),
    ("???", None),
    ("asdfgh", None),
    ("Hội nghị sáng mai mấy giờ?", None),
)


def test_the_table_is_large_enough() -> None:
    assert len(TABLE) >= 150
    assert len({text for text, _ in TABLE}) == len(TABLE)


def test_share_of_phrasings_routed_right() -> None:
    wrong = []
    for text, intent in TABLE:
        match = understand(text, INTENTS)
        got = None if match is None else match.intent
        if got != intent:
            wrong.append((text, intent, got))
    share = 1 - len(wrong) / len(TABLE)
    print(f"\nintents: {len(TABLE) - len(wrong)}/{len(TABLE)} routed right ({share:.1%})")
    for text, intent, got in wrong:
        print(f"  {text!r}: expected {intent}, got {got}")
    assert share >= 0.95, wrong


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("xin chào", "greeting"),
        ("cảm ơn", "thanks"),
        ("hạn chót khi nào?", "deadline"),
        ("làm sao đăng ký?", "how_to_register"),
        ("dang ky", "dangky"),
        ("tong hop", "tonghop"),
        ("đơn vị nào chưa nộp báo cáo?", "not_reported"),
        ("xuat phu luc 1", "xuat"),
    ],
)
def test_the_examples_officers_typed(text: str, intent: str) -> None:
    match = understand(text, INTENTS)
    assert match is not None
    assert match.intent == intent


def test_a_command_typed_with_a_typo_is_a_guess() -> None:
    exact = understand("dang ky", INTENTS)
    assert exact is not None
    assert exact.exact
    guess = understand("dangki", INTENTS)
    assert guess is not None
    assert (guess.intent, guess.exact) == ("dangky", False)


def test_the_words_after_a_command_are_its_arguments() -> None:
    match = understand("tong hop 2025", INTENTS)
    assert match is not None
    assert (match.intent, match.args) == ("tonghop", "2025")


def test_a_mistyped_slash_command_names_the_closest() -> None:
    names = [c.name for c in ALL_COMMANDS]
    assert closest_command("dangki", names) == "dangky"
    assert closest_command("tonghp", names) == "tonghop"
    assert closest_command("mohnh", names) == "mohinh"
    assert closest_command("xyz", names) is None
