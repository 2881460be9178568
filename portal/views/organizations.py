"""Organizations the user belongs to, and their wallets."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse

from portal import selectors
from portal.views.base import HtmxHttpRequest


@login_required
def organization_list(request: HtmxHttpRequest) -> HttpResponse:
    context = {"memberships": selectors.memberships_for_user(request.user)}
    return TemplateResponse(request, "portal/organizations.html", context)


@login_required
def organization_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    membership = (
        selectors.memberships_for_user(request.user).filter(organization__slug=slug).first()
    )
    if membership is None:
        raise Http404("No such organization.")
    organization = membership.organization
    context = {
        "organization": organization,
        "membership": membership,
        "wallets": organization.get_wallets(),
        "members": selectors.organization_members(organization) if membership.can_spend else None,
    }
    return TemplateResponse(request, "portal/organization_detail.html", context)
