"""Texts of the pointers that end greetings, help and refusals: what each command is for, and
the short "Gõ /x để …" line (conversations/season.py chooses the commands)."""

from __future__ import annotations

# What each command is for, as the end of "Gõ /x để …".
PURPOSE = {
    "dangky": "đăng ký mô hình",
    "mohinh": "xem mô hình đã đăng ký",
    "tonghop": "xem tình hình các đơn vị",
    "duyet": "duyệt mô hình được đề xuất",
    "xuat": "lấy biểu",
    "ketqua": "nhập kết quả mô hình",
    "chamdiem": "tự chấm điểm mô hình",
    "dexuat": "đề xuất công nhận mô hình",
    "minhchung": "gửi minh chứng",
    "baocao": "soạn dự thảo hoặc báo đã gửi báo cáo năm",
    "lich": "xem các hạn và việc còn thiếu",
    "hanchot": "đổi ngày các hạn",
    "trogiup": "xem mọi lệnh",
}


def hint(commands: list[str]) -> str:
    """ "Gõ /dangky để đăng ký mô hình, /mohinh để …, /trogiup để xem mọi lệnh.\""""
    parts = [f"/{c} để {PURPOSE[c]}" for c in commands]
    return "Gõ " + ", ".join([*parts, "/trogiup để xem mọi lệnh."])
