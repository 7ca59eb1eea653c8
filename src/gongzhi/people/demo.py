"""Demo people: ~20 residents, a few enterprises and 股份合作公司, wallet documents, consents.

All numbers are generated with real check characters for made-up people (birth dates and
sequence numbers chosen here), including a Hong Kong residence permit (810000…), a Taiwan
residence permit (830000…) and a Mainland Travel Permit holder (H…). Tiny real PDF and PNG
files are generated in code. Idempotent: people and organisations are keyed by number, documents
by (owner, type, title), consents by purpose.

Needs the places demo data and ``accounts.demo.load_demo_users`` (to link ``resident`` and
``agent``) loaded first.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from gongzhi.accounts.models import User
from gongzhi.core.actors import Actor
from gongzhi.people.actions import (
    do_add_agent,
    do_add_document,
    do_grant_consent,
    do_link_user_to_person,
    do_register_organisation,
    do_register_person,
)
from gongzhi.people.models import Document, Organisation, Person
from gongzhi.people.numbers import make_id_number, make_uscc

Progress = Callable[[str], Any] | None

# (name, address code, birth date, sequence, home place key, phone)
DEMO_RESIDENTS: list[tuple[str, str, date, int, str, str]] = [
    ("王建国", "440305", date(1962, 5, 14), 31, "pingshan", "13800001001"),
    ("李秀英", "440305", date(1965, 11, 2), 42, "pingshan", "13800001002"),
    ("张伟", "440305", date(1988, 3, 9), 113, "pingshan", "13800001003"),
    ("刘芳", "430102", date(1991, 7, 21), 226, "pingshan", "13800001004"),
    ("陈志强", "360102", date(1979, 1, 30), 57, "pingshan", "13800001005"),
    ("杨丽", "450103", date(1995, 9, 18), 68, "pingshan", "13800001006"),
    ("黄海涛", "440306", date(1983, 12, 5), 79, "pingshan", "13800001007"),
    ("赵敏", "510104", date(2001, 4, 12), 80, "pingshan", "13800001008"),
    ("周杰", "440309", date(1975, 8, 8), 91, "pingshan", "13800001009"),  # 龙华 code, born before 2017
    ("吴静", "440305", date(2012, 6, 1), 102, "pingshan", ""),
    ("徐明", "440303", date(1958, 2, 17), 13, "wenhua", "13800002001"),
    ("孙桂兰", "440303", date(1950, 10, 3), 24, "wenhua", "13800002002"),
    ("马俊", "420102", date(1986, 5, 26), 35, "wenhua", "13800002003"),
    ("朱晓燕", "440304", date(1993, 3, 3), 46, "wenhua", "13800002004"),
    ("胡斌", "440303", date(1970, 7, 7), 57, "wenhua", "13800002005"),
    ("郭婷", "440303", date(1999, 12, 31), 68, "wenhua", "13800002006"),
    ("陈大文", "810000", date(1980, 4, 15), 111, "wenhua", "+85291234567"),  # 香港居民居住证
    ("林志明", "830000", date(1972, 9, 9), 221, "pingshan", "+886912345678"),  # 台湾居民居住证
    ("何美玲", "440305", date(1968, 1, 1), 202, "pingshan", "13800001010"),
]
# Mainland Travel Permit holder (回乡证): no check character, no birth date in the number.
DEMO_TRAVEL_PERMIT = ("H60012345", "李嘉欣", "wenhua", "+85261234567")

# (authority, entity, region, organisation code, name, kind, place key, legal rep index)
DEMO_ORGANISATIONS = [
    ("N", "2", "440305", "MA5G0PQ01", "深圳市平山股份合作公司", "cooperative", "pingshan", 0),
    ("9", "1", "440300", "MA5F0TY01", "深圳市桃源智造科技有限公司", "enterprise", "pingshan", 2),
    ("9", "1", "440300", "MA5F0TY02", "深圳市平山人才公寓运营管理有限公司", "enterprise", "pingshan", 6),
    ("9", "2", "440305", "MA5F0GT01", "深圳市南山区平山便民超市", "individual_business", "pingshan", 5),
    ("N", "2", "440303", "MA5G0WH01", "深圳市黄贝岭股份合作公司", "cooperative", "wenhua", 10),
    ("5", "2", "440303", "MJL0WH001", "罗湖区文华社区志愿者协会", "social_org", "wenhua", 11),
]


def tiny_pdf(text: str = "Gongzhi demo document") -> bytes:
    """A minimal valid one-page PDF (with a correct xref table)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def tiny_png(rgb: tuple[int, int, int] = (200, 30, 30), size: int = 8) -> bytes:
    """A small solid-colour PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _add_doc_once(owner: Person | Organisation, doc_type: str, title: str, content: bytes, filename: str,
                  *, actor: Actor, **kwargs: Any) -> None:
    owner_q = {"person": owner} if isinstance(owner, Person) else {"organisation": owner}
    if Document.objects.filter(doc_type=doc_type, title=title, **owner_q).exists():
        return
    do_add_document(owner, doc_type, title, SimpleUploadedFile(filename, content), actor=actor, **kwargs)


def load_demo_people(*, actor: Actor, progress: Progress = None) -> dict[str, int]:
    from gongzhi.accounts.demo import demo_places

    places = demo_places()
    persons: list[Person] = []
    with transaction.atomic():
        for name, code, born, seq, place_key, phone in DEMO_RESIDENTS:
            person = do_register_person(
                make_id_number(code, born, seq), name, phone=phone or None, home_place=places[place_key],
                address=f"{places[place_key].name}{len(persons) + 1}栋", actor=actor,
            )
            persons.append(person)
        number, name, place_key, phone = DEMO_TRAVEL_PERMIT
        persons.append(do_register_person(number, name, phone=phone, home_place=places[place_key], actor=actor))
        if progress:
            progress(f"{len(persons)} demo residents")

        orgs: list[Organisation] = []
        for authority, entity, region, org_code, org_name, kind, place_key, rep in DEMO_ORGANISATIONS:
            orgs.append(
                do_register_organisation(
                    make_uscc(authority, entity, region, org_code), org_name, kind, places[place_key],
                    legal_representative=persons[rep], actor=actor,
                )
            )
        if progress:
            progress(f"{len(orgs)} demo organisations")

        resident = User.objects.filter(username="resident").first()
        if resident is not None and not Person.objects.filter(user=resident).exists() and persons[2].user_id is None:
            do_link_user_to_person(resident, persons[2], actor=actor)
        agent = User.objects.filter(username="agent").first()
        if agent is not None:
            do_add_agent(orgs[1], agent, actor=actor)

        pdf, png = tiny_pdf(), tiny_png()
        for i, person in enumerate(persons):
            _add_doc_once(person, "id_card", "身份证件（正反面）", pdf, "id.pdf", actor=actor,
                          issued_on=date(2020, 1, 1), expires_on=date(2040, 1, 1), issuer="深圳市公安局", source="窗口扫描")
            if i % 3 == 0:
                _add_doc_once(person, "photo", "证件照", png, "photo.png", actor=actor, source="上传")
            if i % 4 == 1:
                _add_doc_once(person, "tenancy", "房屋租赁合同", pdf, "tenancy.pdf", actor=actor,
                              issued_on=date(2024, 3, 1), expires_on=date(2025, 2, 28), source="上传")  # expired
            do_grant_consent(person, "data_sharing", "窗口", actor=actor)
            if i % 2 == 0:
                do_grant_consent(person, "notifications", "网上", actor=actor)
        for org in orgs:
            _add_doc_once(org, "business_license", "营业执照", pdf, "license.pdf", actor=actor,
                          issued_on=date(2019, 6, 1), issuer="深圳市市场监督管理局", source="办理结果")
    return {"persons": len(persons), "organisations": len(orgs)}
