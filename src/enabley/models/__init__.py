"""ORM classes only; importing this package registers every table on ``Base.metadata``."""

from enabley.models.account import Account, ApiClient, ScimToken, ServerSecret, SigningKey, SubAccount
from enabley.models.catalog import CatalogEntry
from enabley.models.certificate import (
    Certificate,
    CertificateCourse,
    CertificateStanding,
    ComplianceContribution,
    ComplianceLearner,
    ComplianceTally,
    UserCertificate,
)
from enabley.models.channel import Channel, ChannelGroup, ChannelItem, ChannelUser, ItemProgress
from enabley.models.console import ConsoleSession, ConsoleUser
from enabley.models.event import CertificateNotice, Event
from enabley.models.idempotency import IdempotencyKey
from enabley.models.org import Group, Profile, UserGroup, UserProfile, Workspace
from enabley.models.upload import UploadJob, UploadJobPart
from enabley.models.user import (
    Entitlement,
    SubAccountTally,
    User,
    UserPermission,
    UserSubAccount,
    UserTally,
)
from enabley.models.webhook import WebhookDelivery, WebhookEndpoint, WebhookFanout

__all__ = [
    "Account",
    "ApiClient",
    "CatalogEntry",
    "Certificate",
    "CertificateCourse",
    "CertificateNotice",
    "CertificateStanding",
    "Channel",
    "ChannelGroup",
    "ChannelItem",
    "ChannelUser",
    "ComplianceContribution",
    "ComplianceLearner",
    "ComplianceTally",
    "ConsoleSession",
    "ConsoleUser",
    "Entitlement",
    "Event",
    "Group",
    "IdempotencyKey",
    "ItemProgress",
    "Profile",
    "ScimToken",
    "ServerSecret",
    "SigningKey",
    "SubAccount",
    "SubAccountTally",
    "UploadJob",
    "UploadJobPart",
    "User",
    "UserCertificate",
    "UserGroup",
    "UserPermission",
    "UserProfile",
    "UserSubAccount",
    "UserTally",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookFanout",
    "Workspace",
]
