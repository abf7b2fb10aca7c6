"""Every choice label and every e-mail a user can see is Chinese (issue 13, "no internals on
screen"): the labels of every model field, form field, filter and API field with fixed choices,
and every e-mail template rendered with sample context."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import django_filters
import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from django.utils import translation
from rest_framework import serializers

from portal.services import notification_email, notification_send

PROJECT_APPS = ("portal", "enterprises", "lenders", "products", "matching", "subsidies")
CJK = re.compile(r"[\u4e00-\u9fff]")
#: Labels that are rightly written without a Chinese character (none so far). Add a label here only
#: with the reason it must stay as it is, e.g. "A股" would pass anyway (it has a CJK character).
NOT_CHINESE_ON_PURPOSE: set[str] = set()


def _flat(choices):
    for value, label in choices:
        if isinstance(label, list | tuple):  # an optgroup
            yield from _flat(label)
        else:
            yield value, label


def _bad_labels(choices) -> list[tuple[object, str]]:
    items = choices.items() if isinstance(choices, dict) else choices
    return [
        (value, str(label))
        for value, label in _flat(list(items))
        if value not in ("", None)  # the blank choice ("---------") is Django's own placeholder
        and not CJK.search(str(label))
        and str(label) not in NOT_CHINESE_ON_PURPOSE
    ]


def _project_modules():
    for app in PROJECT_APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if any(part in info.name for part in (".migrations", ".management", ".wsgi", ".asgi")):
                continue
            yield importlib.import_module(info.name)


def _declared_fields(cls) -> dict:
    """The fields of a form, filter set or serializer class that carry fixed choices."""
    if issubclass(cls, forms.BaseForm):
        fields = cls.base_fields
    elif issubclass(cls, django_filters.FilterSet):
        fields = {name: f.field for name, f in cls.base_filters.items()}
    elif issubclass(cls, serializers.Serializer) and cls.__module__.split(".")[0] in PROJECT_APPS:
        fields = cls().fields
    else:
        return {}
    related = (forms.ModelChoiceField, serializers.RelatedField, serializers.ManyRelatedField)
    out = {}
    for name, field in fields.items():
        if isinstance(field, related):  # rows of the database (names), not fixed choices
            continue
        child = getattr(field, "child", None)  # ListField / MultipleChoiceField of choices
        choices = getattr(field, "choices", None) or getattr(child, "choices", None)
        if choices:
            out[name] = choices
    return out


def test_every_model_choice_label_is_chinese():
    translation.activate(settings.LANGUAGE_CODE)
    seen, bad = 0, {}
    for model in apps.get_models():
        if model.__module__.split(".")[0] not in PROJECT_APPS:
            continue  # third-party models (celery beat, OAuth, OTP) are never shown to a user
        for field in model._meta.get_fields():
            if getattr(field, "choices", None):
                seen += 1
                if found := _bad_labels(field.choices):
                    bad[f"{model._meta.label}.{field.name}"] = found
    assert seen > 20  # the walk really reached the models (statuses, kinds, purposes…)
    assert not bad, bad


@pytest.mark.django_db
def test_every_form_filter_and_api_choice_label_is_chinese():
    translation.activate(settings.LANGUAGE_CODE)
    seen, bad, done = 0, {}, set()
    for module in _project_modules():
        for name, cls in vars(module).items():
            if not inspect.isclass(cls) or cls in done:
                continue
            done.add(cls)
            for field_name, choices in _declared_fields(cls).items():
                seen += 1
                if found := _bad_labels(choices):
                    bad[f"{module.__name__}.{name}.{field_name}"] = found
    assert seen > 30  # statuses, purposes, the supermarket's sort, reasons, policy basis…
    assert not bad, bad


def test_the_supermarket_sort_options_are_chinese():
    from products.filtersets import ProductFilterSet

    labels = [str(label) for value, label in ProductFilterSet.base_filters["sort"].field.choices if value]
    assert "最新上架" in labels and "利率从低到高" in labels
    assert all(CJK.search(label) for label in labels), labels


# ------------------------------------------------------------------------------------------------
# E-mails
# ------------------------------------------------------------------------------------------------

TEMPLATES = Path(settings.BASE_DIR) / "templates"
#: A run of two or more English words: a sentence or phrase a Chinese reader was not meant to get.
ENGLISH_WORDS = re.compile(r"[A-Za-z]{2,}(?:[\s,.:;!?'’-]+[A-Za-z]{2,})+")
SAMPLE = {
    # notification e-mails
    "user": "王经理",
    "title": "您有一条新的融资线索，请在 3 个工作日内响应",
    "body": "山西晋科智能装备有限公司 的融资需求（流动资金 500.00万元）已推送给您。",
    "link": "https://kejin.example.gov.cn/bank/leads/12/",
    # the password reset mail (Django's PasswordResetForm context)
    "site_name": "kejin.example.gov.cn",
    "domain": "kejin.example.gov.cn",
    "protocol": "https",
    "uid": "MTI",
    "token": "cz3t8o-0b1f5e2d4c6a8e0f2a4c6e8a0b2d4f6",
    "email": "wang@bank-a.example",
}


def _email_templates() -> list[str]:
    names = {
        p.relative_to(TEMPLATES).as_posix()
        for pattern in ("**/*_subject.txt", "**/*_body.txt", "**/*_body.html", "**/*_email.html")
        for p in TEMPLATES.glob(pattern)
    }
    # the dashboard's page body is a page fragment, not an e-mail
    return sorted(n for n in names if "/email/" in n or n.startswith("registration/"))


def _words_outside_markup(text: str) -> str:
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<!DOCTYPE[^>]*>|<[^>]+>", " ", text)  # tags and their attributes
    text = re.sub(r"https?://\S+|\S+@\S+", " ", text)  # links and addresses are not sentences
    for value in SAMPLE.values():
        text = text.replace(value, " ")
    return text


def test_the_email_templates_are_found():
    names = _email_templates()
    assert {
        "portal/email/notification_subject.txt",
        "portal/email/notification_body.txt",
        "portal/email/notification_body.html",
        "registration/password_reset_subject.txt",
        "registration/password_reset_email.html",
    } <= set(names)


@pytest.mark.parametrize("name", _email_templates())
def test_every_email_template_renders_chinese_and_no_english_sentence(name, db):
    translation.activate(settings.LANGUAGE_CODE)
    text = render_to_string(name, SAMPLE)
    assert CJK.search(text), name
    english = ENGLISH_WORDS.findall(_words_outside_markup(text))
    assert not english, (name, english)


def test_a_notification_email_is_chinese_addressed_to_the_person_and_links_to_the_portal(cast, settings):
    settings.SITE_URL = "https://kejin.example.gov.cn"
    user = cast.officer_a
    subject, text, html = notification_email(user=user, title=SAMPLE["title"], body=SAMPLE["body"], url="/bank/leads/12/")
    assert subject == f"科金直通车：{SAMPLE['title']}"
    assert f"您好，{user.username}：" in text and SAMPLE["body"] in text
    assert "https://kejin.example.gov.cn/bank/leads/12/" in text
    assert 'href="https://kejin.example.gov.cn/bank/leads/12/"' in html and "查看详情" in html
    assert "请勿直接回复" in text and "请勿直接回复" in html


def test_notification_send_mails_each_person_separately_in_chinese(cast, django_capture_on_commit_callbacks):
    cast.officer_a.email = "a@bank-a.example"
    cast.officer_a.save()
    cast.manager_a.email = "m@bank-a.example"
    cast.manager_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(users=[cast.officer_a, cast.manager_a], title="线索已超时", body="请尽快处理。")
    assert sorted(m.to[0] for m in mail.outbox) == ["a@bank-a.example", "m@bank-a.example"]
    assert all(len(m.to) == 1 for m in mail.outbox)  # nobody sees another person's address
    first = mail.outbox[0]
    assert first.subject == "科金直通车：线索已超时" and "请尽快处理。" in first.body
    assert first.alternatives and "线索已超时" in first.alternatives[0][0]
    assert not ENGLISH_WORDS.findall(_words_outside_markup(first.body))
