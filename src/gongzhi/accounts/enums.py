from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    ENTERPRISE_AGENT = "enterprise_agent", _("企业经办人")
    WINDOW_CLERK = "window_clerk", _("综合窗口受理员")
    DEPARTMENT_OFFICER = "department_officer", _("部门审批人员")
    COMMUNITY_WORKER = "community_worker", _("社区工作者")
    COUNCIL_MODERATOR = "council_moderator", _("议事规则主持人")
    COUNCIL_MEMBER = "council_member", _("议事会成员")
    ASSET_MANAGER = "asset_manager", _("股份合作公司管理人员")
    COMMUNITY_SUPERVISOR = "community_supervisor", _("社区督导")
    SUBDISTRICT_SUPERVISOR = "subdistrict_supervisor", _("街道督导")
    DISTRICT_SUPERVISOR = "district_supervisor", _("区级督导")
    AUDITOR = "auditor", _("审计人员")
    ADMINISTRATOR = "administrator", _("系统管理员")


# Roles that act for the public: they see their own records, not a jurisdiction.
PUBLIC_ROLES = frozenset({Role.RESIDENT, Role.ENTERPRISE_AGENT})
SUPERVISOR_ROLES = frozenset({Role.COMMUNITY_SUPERVISOR, Role.SUBDISTRICT_SUPERVISOR, Role.DISTRICT_SUPERVISOR})


# Which staff roles may read personal data (persons, their documents) within their jurisdiction.
# Council moderators/members and asset managers are left out on purpose: running a meeting or a
# collective company needs no access to the resident register (PIPL Art. 6, minimum necessary).
PERSON_READ_ROLES = frozenset(
    {
        Role.WINDOW_CLERK,
        Role.DEPARTMENT_OFFICER,
        Role.COMMUNITY_WORKER,
        Role.COMMUNITY_SUPERVISOR,
        Role.SUBDISTRICT_SUPERVISOR,
        Role.DISTRICT_SUPERVISOR,
        Role.AUDITOR,
        Role.ADMINISTRATOR,
    }
)
# Which staff roles may read case files (办件: applicant, address, application form) within their
# jurisdiction. A case file is personal data of the same kind as the register, so exactly the
# register's readers; services.queries applies this one table to every page, API, PDF and export.
CASE_READ_ROLES = PERSON_READ_ROLES
# Roles that may register and change persons and their wallets within their jurisdiction.
# Supervisors and auditors only read: they check the work, they do not do it.
PERSON_WRITE_ROLES = frozenset(
    {Role.WINDOW_CLERK, Role.DEPARTMENT_OFFICER, Role.COMMUNITY_WORKER, Role.ADMINISTRATOR}
)
# Organisations are public registration data; asset managers look after collective companies.
ORG_READ_ROLES = PERSON_READ_ROLES | {Role.ASSET_MANAGER}
ORG_WRITE_ROLES = PERSON_WRITE_ROLES | {Role.ASSET_MANAGER}
# 一窗办: window clerks and department officers serve whoever walks in, so they may find any
# applicant by the full number the applicant hands over (see people.queries.find_person_by_number).
COUNTER_ROLES = frozenset({Role.WINDOW_CLERK, Role.DEPARTMENT_OFFICER})

# Place kind each supervisor role must be held over.
SUPERVISOR_PLACE_KIND = {
    Role.COMMUNITY_SUPERVISOR: "community",
    Role.SUBDISTRICT_SUPERVISOR: "subdistrict",
    Role.DISTRICT_SUPERVISOR: "district",
}

# Order of the landing pages when a user holds several roles: the widest responsibility first.
LANDING_ORDER = [
    Role.ADMINISTRATOR,
    Role.DISTRICT_SUPERVISOR,
    Role.SUBDISTRICT_SUPERVISOR,
    Role.COMMUNITY_SUPERVISOR,
    Role.AUDITOR,
    Role.DEPARTMENT_OFFICER,
    Role.WINDOW_CLERK,
    Role.COMMUNITY_WORKER,
    Role.COUNCIL_MODERATOR,
    Role.ASSET_MANAGER,
    Role.COUNCIL_MEMBER,
    Role.ENTERPRISE_AGENT,
    Role.RESIDENT,
]

# Staff whose scope is wide enough that a stolen password would expose a whole subdistrict or
# district (or the whole platform) must also pass a second factor (TOTP) at login. Superusers too
# (accounts.queries.requires_second_factor). Community-level staff reach a few thousand people
# and keep the password-only login; add their roles here when the district decides so.
SECOND_FACTOR_ROLES = frozenset({Role.ADMINISTRATOR, Role.SUBDISTRICT_SUPERVISOR, Role.DISTRICT_SUPERVISOR})


class IdentityStatus(models.TextChoices):
    """Whether the person behind an account has been checked against their ID document.

    Accounts opened at the window (and staff accounts) are verified when they are made; an
    account a resident opens online (accounts.actions self-registration) is ``unverified`` until a
    window clerk checks the ID card or a real-name provider confirms it (accounts.realname).
    """

    VERIFIED = "verified", _("已实名核验")
    UNVERIFIED = "unverified", _("未实名核验")
