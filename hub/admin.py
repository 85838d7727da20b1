import json

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html, format_html_join
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


def secret_field(label):
    """A password box that is never filled in with what is stored."""
    return forms.CharField(
        label=label, strip=False, required=False,
        widget=forms.PasswordInput(render_value=False),
    )


class WriteOnlySecretsForm(forms.ModelForm):
    """A form whose secrets are write-only: never put back into the page, kept when left empty.

    `secrets` maps each secret field to what it is called in the help text; the ones in
    `required_secrets` must be given when the row is added; `removable_secrets` maps an
    optional secret to the checkbox (declared on the form) that removes the stored one.
    A change that moves a URL without giving its secret again is refused on the secret's
    box (the model's `check_secret_destinations`, as in the API).
    """

    secrets = {}
    required_secrets = ()
    removable_secrets = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adding = self.instance._state.adding
        for name, noun in self.secrets.items():
            self.initial.pop(name, None)
            self.fields[name].required = adding and name in self.required_secrets
            if not adding and getattr(self.instance, name):
                self.fields[name].help_text = f"A {noun} is stored; leave empty to keep it."

    def clean(self):
        data = super().clean()
        removed = [name for name, box in self.removable_secrets.items() if data.get(box)]
        changes = {name: data[name] for name in self.changed_data if name in data}
        changes.update((name, None) for name in removed)
        try:
            self.instance.check_secret_destinations(changes)
        except ValidationError as exc:
            self.add_error(None, exc)
        for name in self.secrets:
            if name in removed:
                data[name] = None
            elif name in data and not data[name]:
                data[name] = getattr(self.instance, name)
        return data


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


def key_value_table(data, empty="—"):
    """A JSON value as staff read it: objects as labelled rows, lists of objects as tables,
    nested as deep as they go."""
    if data in (None, "", {}, []):
        return empty
    if isinstance(data, dict):
        return format_html(
            '<table class="kv"><tbody>{}</tbody></table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", (
                (str(key).replace("_", " "), key_value_table(value)) for key, value in data.items()
            )),
        )
    if isinstance(data, list):
        if all(isinstance(item, dict) for item in data):
            columns = list(dict.fromkeys(key for item in data for key in item))
            head = format_html_join("", "<th>{}</th>", ((c.replace("_", " "),) for c in columns))
            rows = format_html_join("", "<tr>{}</tr>", (
                (format_html_join("", "<td>{}</td>", (
                    (key_value_table(item.get(column), ""),) for column in columns)),)
                for item in data
            ))
            return format_html('<table class="kv"><thead><tr>{}</tr></thead><tbody>{}</tbody>'
                               "</table>", head, rows)
        return ", ".join(str(item) for item in data)
    if isinstance(data, bool):
        return "yes" if data else "no"
    return str(data)


def json_readable(data, empty="—"):
    """key_value_table, with the raw JSON behind a toggle."""
    if data in (None, "", {}, []):
        return empty
    return format_html(
        '{}<details class="raw-json"><summary>Raw JSON</summary><pre>{}</pre></details>',
        key_value_table(data), json.dumps(data, indent=2, sort_keys=True, default=str),
    )
