//! The domain roles a token's `roles` claim names.

/// A domain role, from the token's `roles` claim.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Social worker, allocated to cases.
    SocialWorker,
    /// Team manager: signs off assessments, agrees risk classifications.
    TeamManager,
    /// Service manager / nominated officer: approves the return decision (D3) where required.
    NominatedOfficer,
    /// Independent reviewing officer.
    Iro,
    /// Family-support worker.
    FamilySupport,
    /// Data analyst: aggregates only.
    DataAnalyst,
    /// LA administrator: configuration of the LA.
    LaAdmin,
    /// A case-management system acting for the LA.
    VendorSystem,
}

impl Role {
    /// The claim value, e.g. `social_worker`.
    pub fn as_claim(self) -> &'static str {
        match self {
            Role::SocialWorker => "social_worker",
            Role::TeamManager => "team_manager",
            Role::NominatedOfficer => "nominated_officer",
            Role::Iro => "iro",
            Role::FamilySupport => "family_support",
            Role::DataAnalyst => "data_analyst",
            Role::LaAdmin => "la_admin",
            Role::VendorSystem => "vendor_system",
        }
    }

    /// Parses a claim value.
    pub fn from_claim(s: &str) -> Option<Role> {
        [
            Role::SocialWorker,
            Role::TeamManager,
            Role::NominatedOfficer,
            Role::Iro,
            Role::FamilySupport,
            Role::DataAnalyst,
            Role::LaAdmin,
            Role::VendorSystem,
        ]
        .into_iter()
        .find(|r| r.as_claim() == s)
    }

    /// The scopes a development token for this role carries.
    pub fn default_scopes(self) -> &'static [&'static str] {
        match self {
            Role::DataAnalyst => &["aggregates:read"],
            Role::Iro => &["cases:read"],
            Role::LaAdmin => &["cases:read", "cases:write", "admin"],
            Role::TeamManager | Role::NominatedOfficer => {
                &["cases:read", "cases:write", "aggregates:read"]
            }
            _ => &["cases:read", "cases:write"],
        }
    }
}
