"""Who is who for one cycle: the addresses each role's prompts go to."""

from pydantic import BaseModel, ConfigDict

from domain.stages import ContactRole
from domain.submissions import Contacts


class Directory(BaseModel):
    """Known addresses; contact changes replace it, so later prompts follow the new person."""

    model_config = ConfigDict(frozen=True)

    contacts: Contacts | None = None
    careers_leader_email: str | None = None
    facilitator_email: str | None = None
    review_lead_email: str | None = None
    cec_email: str | None = None

    def address(self, role: ContactRole) -> str | None:
        if role in (ContactRole.CAREERS_LEADER, ContactRole.SENIOR_LEADER, ContactRole.GOVERNOR):
            if self.contacts is not None:
                return self.contacts.email_for(role)
            return self.careers_leader_email if role is ContactRole.CAREERS_LEADER else None
        return {
            ContactRole.FACILITATOR: self.facilitator_email,
            ContactRole.REVIEW_LEAD: self.review_lead_email,
            ContactRole.CEC: self.cec_email,
        }[role]

    def route(self, roles: tuple[ContactRole, ...]) -> list[tuple[ContactRole, str | None]]:
        """The roles that have an address; when none has, CEC (recorded unaddressed if CEC has none either)."""
        addressed = [(role, self.address(role)) for role in roles]
        known: list[tuple[ContactRole, str | None]] = [(role, email) for role, email in addressed if email]
        fallback: list[tuple[ContactRole, str | None]] = [(ContactRole.CEC, self.cec_email)]
        return known or fallback

    def with_role(self, role: ContactRole, email: str) -> "Directory":
        field = {ContactRole.FACILITATOR: "facilitator_email", ContactRole.REVIEW_LEAD: "review_lead_email"}[role]
        return self.model_copy(update={field: email})

    def with_contacts(self, contacts: Contacts) -> "Directory":
        return self.model_copy(
            update={"contacts": contacts, "careers_leader_email": str(contacts.careers_leader.email)}
        )
