from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.utils.translation import gettext_lazy as _

from tremplin.core.decorators import login_verified
from tremplin.core.forms import QueuedPasswordResetForm
from tremplin.core.views import account, auth

app_name = "core"

urlpatterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("home/", account.home_redirect, name="home_redirect"),
    path("", account.account, name="account"),
    path("language/", account.account_language, name="account_language"),
    path("2fa/verify/", auth.otp_verify, name="otp_verify"),
    path("2fa/setup/", auth.otp_setup, name="otp_setup"),
    path("2fa/recovery-codes/", auth.otp_recovery_codes, name="otp_recovery_codes"),
    path("2fa/disable/", auth.otp_disable, name="otp_disable"),
    path(
        "password/",
        login_verified(
            auth_views.PasswordChangeView.as_view(
                template_name="core/password_form.html",
                extra_context={"heading": _("Change my password")},
                success_url=reverse_lazy("core:account"),
            )
        ),
        name="password_change",
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="core/password_form.html",
            extra_context={
                "heading": _("Reset my password"),
                "intro": _(
                    "Enter the email address of your account: we will send you a link to "
                    "choose a new password."
                ),
            },
            email_template_name="core/email/password_reset.txt",
            subject_template_name="core/email/password_reset_subject.txt",
            success_url=reverse_lazy("core:password_reset_done"),
            form_class=QueuedPasswordResetForm,
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="core/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="core/password_form.html",
            extra_context={"heading": _("Choose a new password")},
            success_url=reverse_lazy("core:login"),
            post_reset_login=False,
        ),
        name="password_reset_confirm",
    ),
]
