"""Admin pages for organizations, integrations and their imports.

Secrets are write-only: the password and the API key fields are never filled in when a
page is shown, and leaving one empty on a change keeps what is stored. The access token
is never shown. Every list page reads its rows in a constant number of queries.
"""

import re
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django_celery_beat.validators import crontab_validator

from catalog.admin import count_of
from hub.admin import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    WriteOnlySecretsForm,
    json_readable,
    latest_formset,
    readable_duration,
    secret_field,
    wrapped_text,
)
from hub.queue import QueueUnavailable
from integrations.api.serializers import MAX_PRODUCT_CODES, ProductImportSerializer
from integrations.models import (
    INTEGRATION_MODELS,
    ImportTask,
    OMSIntegration,
    OPSIntegration,
    Organization,
    OVSIntegration,
    PrintOpsIntegration,
    PrintOpsShippingMethod,
    SyncRun,
    SyncStatus,
    WebhookEvent,
)
from integrations.printops.client import PrintOpsError
from integrations.printops.webhooks import register_webhooks, webhook_url
from integrations.schedules import ensure_schedule, next_run_at
from integrations.services import SYNC_PHASES, create_integration, trigger_sync

LATEST_IMPORTS = 20
LATEST_RUNS = 20

SYNC_STATE_FIELDS = [
    "sync_status", "live_progress", "last_sync_at", "last_successful_sync_at",
    "total_products_synced", "total_products_updated", "total_products_skipped",
    "sync_stats", "last_error_message",
]


# -- organizations -----------------------------------------------------------------------


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "created_at"]
    search_fields = ["name"]
    filter_horizontal = ["members"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            member_count=count_of(Organization.members.through, "organization")
        )

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, organization):
        return organization.member_count


# -- integrations ------------------------------------------------------------------------


def schedule_minutes(interval):
    """An interval schedule in whole minutes (None when shorter than a minute)."""
    minutes = timedelta(**{interval.period: interval.every}) // timedelta(minutes=1)
    return minutes or None


class SyncScheduleForm(forms.Form):
    """The schedule of a source's sync, edited with the integration (interval or crontab)."""

    schedule_enabled = forms.BooleanField(label="Sync on a schedule", required=False)
    schedule_every_minutes = forms.IntegerField(
        label="Every (minutes)", min_value=1, required=False,
        help_text="Sync this often; leave empty when a crontab is given.",
    )
    schedule_crontab = forms.CharField(
        label="Crontab", required=False,
        help_text='"minute hour day-of-month month day-of-week" in UTC, e.g. "0 3 * * *" '
                  "for every night at 03:00. Replaces the interval.",
    )

    SCHEDULE_FIELDS = ["schedule_enabled", "schedule_every_minutes", "schedule_crontab"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.update(self.schedule_initial())

    def schedule_initial(self):
        schedule = self.instance.schedule if self.instance.schedule_id else None
        if schedule is None:
            return {
                "schedule_enabled": True,
                "schedule_every_minutes": settings.DEFAULT_SYNC_INTERVAL_MINUTES,
            }
        initial = {"schedule_enabled": schedule.enabled}
        if schedule.crontab_id:
            tab = schedule.crontab
            initial["schedule_crontab"] = " ".join([
                tab.minute, tab.hour, tab.day_of_month, tab.month_of_year, tab.day_of_week,
            ])
        elif schedule.interval_id:
            initial["schedule_every_minutes"] = schedule_minutes(schedule.interval)
        return initial

    def clean_schedule_crontab(self):
        crontab = " ".join(self.cleaned_data["schedule_crontab"].split())
        if not crontab:
            return ""
        if len(crontab.split()) != 5:
            raise ValidationError(
                "A crontab has five fields: minute hour day-of-month month day-of-week."
            )
        crontab_validator(crontab)
        return crontab

    def clean(self):
        data = super().clean()
        every_minutes = data.get("schedule_every_minutes")
        crontab = data.get("schedule_crontab")
        if "schedule_crontab" in self.errors or "schedule_every_minutes" in self.errors:
            return data
        if every_minutes and crontab:
            raise ValidationError(
                {"schedule_crontab": "Give either an interval or a crontab, not both."}
            )
        if not every_minutes and not crontab:
            raise ValidationError(
                {"schedule_every_minutes": "Give an interval in minutes or a crontab."}
            )
        return data

    def save_schedule(self, integration):
        data = self.cleaned_data
        ensure_schedule(
            integration,
            every_minutes=None if data["schedule_crontab"] else data["schedule_every_minutes"],
            crontab=data["schedule_crontab"] or None,
            enabled=data["schedule_enabled"],
        )


class OVSIntegrationForm(SyncScheduleForm, WriteOnlySecretsForm):
    secrets = {"password": "password", "push_service_api_key": "key"}
    required_secrets = ("password",)
    removable_secrets = {"push_service_api_key": "remove_push_service_api_key"}
    password = secret_field("Password")
    push_service_api_key = secret_field("Push service API key")
    remove_push_service_api_key = forms.BooleanField(
        label="Remove the stored API key", required=False
    )

    class Meta:
        model = OVSIntegration
        fields = [
            "name", "user", "organization", "base_url", "username", "password",
            "push_products", "push_service_base_url", "push_service_api_key",
        ]


class ImportTaskColumns:
    """How an import task's progress reads, on the integration page and its own."""

    @admin.display(description="Status", ordering="status")
    def outcome(self, task):
        """The status, and what did not go well: "Success: 2 of 5 codes not found"."""
        summary = (task.result_data or {}).get("summary", {})
        total = sum(summary.values())
        missed = [f"{summary[key]} of {total} code{pluralize(total)} {words}"
                  for key, words in (("not_found", "not found"), ("failed", "failed"))
                  if summary.get(key)]
        text = task.get_status_display().capitalize()
        if missed:
            text = f"{text}: {', '.join(missed)}"
        level = "error" if task.status == ImportTask.Status.FAILURE else (
            "out-of-date" if missed else task.status)
        return format_html('<span class="badge badge-{}">{}</span>', level, text)

    @admin.display(description="Per code")
    def outcomes(self, task):
        products = (task.result_data or {}).get("products", {})
        rows = [{"code": code, "outcome": outcome.get("status", ""),
                 "reason": outcome.get("reason", "")} for code, outcome in products.items()]
        return json_readable(rows, empty="Nothing yet.") if rows else "Nothing yet."

    @admin.display(description="Progress")
    def progress(self, task):
        return f"{task.progress}%"

    @admin.display(description="Processed")
    def items(self, task):
        return f"{task.processed_items}/{task.total_items}"

    @admin.display(description="Codes")
    def product_codes_count(self, task):
        return task.product_codes_count


class ImportTaskInline(ImportTaskColumns, ReadOnlyInline):
    model = ImportTask
    formset = latest_formset(LATEST_IMPORTS)
    verbose_name_plural = f"Latest imports (the last {LATEST_IMPORTS}, newest first)"
    fields = [
        "outcome", "progress", "items", "product_codes_count", "error_message",
        "created_at", "completed_at",
    ]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-created_at", "-id").defer("result_data")



class SyncRunInline(ReadOnlyInline):
    model = SyncRun
    formset = latest_formset(LATEST_RUNS)
    verbose_name_plural = f"Sync runs (the last {LATEST_RUNS}, newest first)"
    fields = [
        "started_at", "kind", "status", "duration", "time_spent", "created", "updated",
        "skipped", "failed", "error",
    ]
    readonly_fields = fields

    @admin.display(description="Kind")
    def kind(self, run):
        return "Full" if run.full else "Changes"

    @admin.display(description="Duration")
    def duration(self, run):
        return readable_duration(run.duration)

    @admin.display(description="Time spent")
    def time_spent(self, run):
        """Where the run's time went, in the order of the sync (jsonb keeps no order)."""
        phases = run.phase_seconds or {}
        return ", ".join(
            f"{phase} {phases[phase]} s" for phase in SYNC_PHASES if phase in phases
        ) or "—"

    @admin.display(description="Error")
    def error(self, run):
        return wrapped_text(run.error_message)


class ImportByCodesForm(forms.Form):
    product_codes = forms.CharField(
        label="Product codes", widget=forms.Textarea(attrs={"rows": 8, "cols": 60}),
        help_text=f"One per line (or separated by commas or spaces); at most "
                  f"{MAX_PRODUCT_CODES}.",
    )
    is_filler = forms.BooleanField(label="Import as filler products", required=False)

    def codes(self):
        return [code for code in re.split(r"[\s,]+", self.cleaned_data["product_codes"])
                if code]


class SourceIntegrationAdmin(admin.ModelAdmin):
    """What every source's page has: its schedule, sync buttons, live progress, run history.

    "Sync now" and "Full sync" post to the page's own sync URL; while a run is going the
    progress field asks the progress URL every two seconds and the page reloads when the
    run ends (so the history shows it).
    """

    change_form_template = "admin/integrations/source_change_form.html"
    list_filter = ["sync_status", "organization"]
    list_select_related = ["user", "organization", "supplier"]
    search_fields = ["name", "base_url"]
    autocomplete_fields = ["user", "organization"]
    actions = ["sync_now", "full_sync_now"]

    class Media:
        js = ["hub/admin/sync_progress.js"]

    def get_urls(self):
        opts = self.model._meta
        prefix = f"{opts.app_label}_{opts.model_name}"
        return [
            path("<path:object_id>/sync/", self.admin_site.admin_view(self.sync_view),
                 name=f"{prefix}_sync"),
            path("<path:object_id>/sync-progress/",
                 self.admin_site.admin_view(self.progress_view), name=f"{prefix}_progress"),
            path("<path:object_id>/import/", self.admin_site.admin_view(self.import_view),
                 name=f"{prefix}_import"),
            *super().get_urls(),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["supplier", "schedule_link", *SYNC_STATE_FIELDS]

    def schedule_fieldset(self, obj):
        fields = list(SyncScheduleForm.SCHEDULE_FIELDS)
        if obj is not None:
            fields.append("schedule_link")
        return ("Schedule", {"fields": fields})

    def get_inlines(self, request, obj):
        return [] if obj is None else [SyncRunInline]

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            # Through the service, so the integration gets its supplier and its schedule.
            created = create_integration(self.model, **{
                field.name: getattr(obj, field.name)
                for field in obj._meta.concrete_fields if field.name in form.fields
            })
            obj.pk = created.pk
            obj.refresh_from_db()
            obj._state.adding = False
        form.save_schedule(obj)

    @admin.display(description="Progress")
    def progress(self, integration):
        return f"{integration.sync_progress}%"

    @admin.display(description="Last sync stats")
    def sync_stats(self, integration):
        return json_readable(integration.last_sync_stats)

    @admin.display(description="Progress")
    def live_progress(self, integration):
        opts = self.model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_progress",
                      args=[integration.pk])
        return format_html(
            '<div class="sync-progress" data-url="{}" data-status="{}">'
            '<progress max="100" value="{}"></progress> <span>{}</span></div>',
            url, integration.sync_status, integration.sync_progress,
            progress_text(integration),
        )

    @admin.display(description="Scheduled task")
    def schedule_link(self, integration):
        if not integration.schedule_id:
            return "None"
        opts = integration.schedule._meta
        url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[integration.schedule_id]
        )
        next_run = next_run_at(integration.schedule)
        when = date_format(timezone.localtime(next_run), "DATETIME_FORMAT") if next_run else (
            "off")
        return format_html('<a href="{}">{}</a> (next run: {})', url, integration.schedule,
                           when)

    def sync_view(self, request, object_id):
        integration = self.get_object(request, unquote(object_id))
        if integration is None or not self.has_change_permission(request, integration):
            raise PermissionDenied
        if request.method == "POST":
            full = request.POST.get("full") == "1"
            self.queue_syncs(request, self.model.objects.filter(pk=integration.pk), full=full)
        opts = self.model._meta
        return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", integration.pk)

    def import_view(self, request, object_id):
        """Start an import by codes: the API's own validation, the task's page after."""
        integration = self.get_object(request, unquote(object_id))
        if integration is None or not self.has_change_permission(request, integration):
            raise PermissionDenied
        form = ImportByCodesForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = ProductImportSerializer(
                data={"product_codes": form.codes(), "is_filler": form.cleaned_data["is_filler"]},
                context={"request": request, "integration": integration},
            )
            if data.is_valid():
                task = data.save()
                self.message_user(request, f"Queued an import of {len(task.product_codes)} "
                                           f"code{pluralize(len(task.product_codes))}.")
                return redirect("admin:integrations_importtask_change", task.pk)
            for errors in data.errors.values():
                flat = errors.values() if isinstance(errors, dict) else [errors]
                for messages_ in flat:
                    form.add_error("product_codes", [str(m) for m in messages_])
        return TemplateResponse(request, "admin/integrations/import_products.html", {
            **self.admin_site.each_context(request),
            "title": f"Import products into {integration.name}",
            "opts": self.model._meta, "integration": integration, "form": form,
        })

    def progress_view(self, request, object_id):
        integration = self.get_object(request, unquote(object_id))
        if integration is None or not self.has_view_permission(request, integration):
            raise PermissionDenied
        return JsonResponse({
            "sync_status": integration.sync_status,
            "progress": integration.sync_progress,
            "text": progress_text(integration),
        })

    @admin.action(description="Sync now (changes since the last sync)")
    def sync_now(self, request, queryset):
        self.queue_syncs(request, queryset, full=False)

    @admin.action(description="Full sync now")
    def full_sync_now(self, request, queryset):
        self.queue_syncs(request, queryset, full=True)

    def queue_syncs(self, request, queryset, *, full):
        queued, running = 0, []
        for pk, name in queryset.values_list("pk", "name"):
            try:
                run_id = trigger_sync(pk, full=full)
            except QueueUnavailable as exc:
                self.message_user(request, f"{name}: {exc}", messages.ERROR)
                break
            if run_id is None:
                running.append(name)
                continue
            queued += 1
        kind = "full sync" if full else "sync"
        message = f"Queued {queued} {kind}{pluralize(queued)}"
        if running:
            message += f"; {len(running)} already running ({', '.join(running)})"
        self.message_user(request, f"{message}.", messages.SUCCESS if queued else messages.WARNING)


def progress_text(integration):
    """The sync's state in words: "Running: 120 of 400 products (30%)", "Completed", ..."""
    status = integration.get_sync_status_display()
    if integration.sync_status != SyncStatus.RUNNING:
        return status
    if integration.sync_total:
        return (f"{status}: {integration.sync_processed} of {integration.sync_total} "
                f"products ({integration.sync_progress}%)")
    return f"{status}: {integration.sync_processed} products so far"


@admin.register(OVSIntegration)
class OVSIntegrationAdmin(SourceIntegrationAdmin):
    form = OVSIntegrationForm
    list_display = [
        "name", "integration_type", "user", "organization", "supplier", "sync_status",
        "last_sync_at", "last_successful_sync_at", "progress",
    ]

    def get_fieldsets(self, request, obj=None):
        main = ["name", "user", "organization", "base_url"]
        connection = ["username", "password"]
        pushing = ["push_products", "push_service_base_url", "push_service_api_key"]
        if obj is None:
            sync_state = []
        else:
            main.append("supplier")
            connection.append("token_status")
            if obj.push_service_api_key:
                pushing.append("remove_push_service_api_key")
            sync_state = [("Sync state", {"fields": SYNC_STATE_FIELDS})]
        return [
            (None, {"fields": main}),
            ("Connection", {"fields": connection}),
            ("Pushing products", {"fields": pushing}),
            self.schedule_fieldset(obj),
            *sync_state,
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if obj is None else [*fields, "token_status"]

    def get_inlines(self, request, obj):
        return [] if obj is None else [SyncRunInline, ImportTaskInline]

    @admin.display(description="Access token")
    def token_status(self, integration):
        if integration.token and integration.token_expires_at:
            expires_at = timezone.localtime(integration.token_expires_at)
            return f"Cached until {date_format(expires_at, 'DATETIME_FORMAT')}"
        return "None cached"


# -- storefronts ---------------------------------------------------------------------------


class OPSIntegrationForm(WriteOnlySecretsForm):
    secrets = {"client_secret": "secret"}
    required_secrets = ("client_secret",)
    client_secret = secret_field("Client secret")

    # Changing any of these makes the cached access token useless: it was issued for
    # another server, client or secret.
    CONNECTION_FIELDS = ("base_url", "token_url", "client_id")

    class Meta:
        model = OPSIntegration
        fields = [
            "name", "base_url", "token_url", "client_id", "client_secret",
            "rate_limit_per_minute",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored_secret = (
            None if self.instance._state.adding else self.instance.client_secret
        )

    def connection_changed(self):
        return bool(set(self.CONNECTION_FIELDS) & set(self.changed_data)) or (
            self.cleaned_data["client_secret"] != self.stored_secret
        )


@admin.register(OPSIntegration)
class OPSIntegrationAdmin(admin.ModelAdmin):
    """A customer's storefront: where its products are pushed. The token is never shown."""

    form = OPSIntegrationForm
    list_display = ["name", "base_url", "client_id", "rate_limit_per_minute", "user"]
    list_select_related = ["user"]
    search_fields = ["name", "base_url", "client_id"]
    token_status = OVSIntegrationAdmin.token_status

    def get_fieldsets(self, request, obj=None):
        main = ["name", "base_url"]
        connection = ["token_url", "client_id", "client_secret", "rate_limit_per_minute"]
        if obj is not None:
            main.append("user")
            connection.append("token_status")
        return [(None, {"fields": main}), ("Connection", {"fields": connection})]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user", "token_status"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.user = request.user
        elif form.connection_changed():
            obj.token = obj.token_expires_at = None
        super().save_model(request, obj, form, change)


class OMSIntegrationForm(WriteOnlySecretsForm):
    secrets = {"api_token": "token"}
    required_secrets = ("api_token",)
    api_token = secret_field("API token")

    class Meta:
        model = OMSIntegration
        fields = [
            "name", "base_url", "api_token", "store_id", "team_id", "country_id",
            "default_dpi", "default_location",
        ]



@admin.register(OMSIntegration)
class OMSIntegrationAdmin(admin.ModelAdmin):
    """An order management system used as a customer's storefront. The token is never shown."""

    form = OMSIntegrationForm
    list_display = ["name", "base_url", "store_id", "team_id", "country_id", "user"]
    list_select_related = ["user"]
    search_fields = ["name", "base_url", "store_id"]

    def get_fieldsets(self, request, obj=None):
        main = ["name", "base_url"]
        if obj is not None:
            main.append("user")
        return [
            (None, {"fields": main}),
            ("Connection", {"fields": ["api_token", "store_id"]}),
            ("Defaults of every product and variant", {
                "fields": ["team_id", "country_id", "default_dpi", "default_location"],
            }),
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.user = request.user
        super().save_model(request, obj, form, change)


# -- PrintOps ------------------------------------------------------------------------------

LATEST_WEBHOOK_EVENTS = 20


class PrintOpsIntegrationForm(SyncScheduleForm, WriteOnlySecretsForm):
    secrets = {"api_token": "token"}
    required_secrets = ("api_token",)
    api_token = secret_field("API token")

    class Meta:
        model = PrintOpsIntegration
        fields = ["name", "user", "organization", "base_url", "api_token"]



class PrintOpsShippingMethodInline(ReadOnlyInline):
    model = PrintOpsShippingMethod
    verbose_name_plural = "Shipping methods (read at each sync)"
    fields = ["name", "external_id", "updated_at"]
    readonly_fields = fields


class WebhookEventInline(ReadOnlyInline):
    model = WebhookEvent
    formset = latest_formset(LATEST_WEBHOOK_EVENTS)
    verbose_name_plural = (
        f"Latest webhook events (the last {LATEST_WEBHOOK_EVENTS}, newest first)"
    )
    fields = ["received_at", "event_type", "store_id"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-received_at", "-id").defer("payload")


@admin.register(PrintOpsIntegration)
class PrintOpsIntegrationAdmin(SourceIntegrationAdmin):
    """PrintOps: a source of print products and the home of customers' stores.

    The API token is never shown. The delivery URL (with the webhook secret in it) is:
    PrintOps' API has no field for it, so staff enter it in PrintOps themselves.
    """

    form = PrintOpsIntegrationForm
    list_display = [
        "name", "user", "organization", "supplier", "sync_status", "last_successful_sync_at",
        "progress",
    ]
    actions = ["register_webhooks", "sync_now", "full_sync_now"]

    def get_fieldsets(self, request, obj=None):
        main = ["name", "user", "organization", "base_url"]
        if obj is None:
            return [
                (None, {"fields": main}),
                ("Connection", {"fields": ["api_token"]}),
                self.schedule_fieldset(obj),
            ]
        return [
            (None, {"fields": [*main, "supplier"]}),
            ("Connection", {"fields": ["api_token"]}),
            self.schedule_fieldset(obj),
            ("Webhooks", {"fields": ["delivery_url"]}),
            ("Sync state", {"fields": SYNC_STATE_FIELDS}),
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if obj is None else [*fields, "delivery_url"]

    @admin.display(description="Delivery URL")
    def delivery_url(self, integration):
        return format_html(
            "<code>{}</code><div class=\"help\">Enter this URL as the webhook delivery URL in"
            " your PrintOps account: PrintOps' API takes no URL, so the hub cannot set it."
            " \"Register webhooks\" subscribes the account to the order events.</div>",
            webhook_url(integration),
        )

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        return [SyncRunInline, PrintOpsShippingMethodInline, WebhookEventInline]

    @admin.action(description="Register webhooks")
    def register_webhooks(self, request, queryset):
        for integration in queryset:
            try:
                registration = register_webhooks(integration)
            except PrintOpsError as exc:
                self.message_user(request, f"{integration.name}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{integration.name}: webhooks {registration}.",
                                  messages.SUCCESS)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    """Webhook events as they were received: they can be read, never edited."""

    list_display = ["received_at", "integration", "event_type", "store_id"]
    list_filter = ["integration", "event_type", "store_id"]
    list_select_related = ["integration"]
    fields = ["integration_link", "event_type", "store_id", "received_at", "payload_table"]
    readonly_fields = fields

    @admin.display(description="Payload")
    def payload_table(self, event):
        return json_readable(event.payload)


    @admin.display(description="Integration")
    def integration_link(self, event):
        return format_html(
            '<a href="{}">{}</a>', integration_url(event.integration), event.integration
        )


# -- imports -------------------------------------------------------------------------------


def integration_url(integration):
    opts = INTEGRATION_MODELS[integration.integration_type]._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[integration.pk])


@admin.register(ImportTask)
class ImportTaskAdmin(ImportTaskColumns, ReadOnlyAdmin):
    """Imports as the workers record them: they can be read, never edited."""

    list_display = [
        "created_at", "integration", "owner", "outcome", "progress", "items", "completed_at",
    ]
    list_filter = ["status", "integration"]
    list_select_related = ["integration", "owner"]
    fields = [
        "integration_link", "owner", "outcome", "is_filler", "progress", "items",
        "product_codes_count", "codes", "outcomes", "error_message",
        "created_at", "started_at", "completed_at", "updated_at",
    ]
    readonly_fields = fields


    @admin.display(description="Product codes")
    def codes(self, task):
        return ", ".join(task.product_codes)

    @admin.display(description="Integration")
    def integration_link(self, task):
        return format_html(
            '<a href="{}">{}</a>', integration_url(task.integration), task.integration
        )

