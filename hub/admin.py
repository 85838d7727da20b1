from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html
from django.utils.text import Truncator

from hub.models import User

admin.site.register(User, UserAdmin)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the hub writes itself (logs, tasks, events): read here, never added or edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows the hub writes itself, listed on their parent's page."""

    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def latest_formset(count):
    """An inline formset showing only the first `count` rows of the inline's ordering."""

    class LatestFormSet(BaseInlineFormSet):
        def get_queryset(self):
            if not hasattr(self, "_latest"):
                self._latest = super().get_queryset()[:count]
            return self._latest

    return LatestFormSet


def readable_duration(delta):
    """A duration as staff read it: "4 s", "2 min 05 s", "1 h 03 min"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def wrapped_text(text, length=160):
    """Long text (an error, a detail) wrapped in the cell, cut at `length`, whole on hover."""
    if not text:
        return "—"
    return format_html('<span class="wrapped" title="{}">{}</span>', text,
                       Truncator(text).chars(length))
