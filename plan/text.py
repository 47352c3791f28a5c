"""Bilingual texts: the plan carries every text in Chinese and English."""

from django.utils.translation import get_language


def current_language_is_chinese():
    return (get_language() or "zh-hans").lower().startswith("zh")


class BilingualMixin:
    """Gives ``obj.localized("name")`` for models with ``name_en``/``name_zh`` pairs."""

    def localized(self, field):
        zh, en = getattr(self, f"{field}_zh"), getattr(self, f"{field}_en")
        if current_language_is_chinese():
            return zh or en
        return en or zh

    @property
    def name(self):
        return self.localized("name")
