//! Batched lookups for children, episodes, household members and external identifiers.

use crate::many_loader;

many_loader!(/// A child by id.
    ChildKey, child, Id, id, Id);
many_loader!(/// A care episode by id.
    EpisodeKey, care_episode, Id, id, Id);
many_loader!(/// Household members of a child.
    HouseholdOf, household_member, ChildId, child_id, Id);
many_loader!(/// Episodes of a child, oldest first.
    EpisodesOf, care_episode, ChildId, child_id, StartedOn);
many_loader!(/// A household member by id.
    MemberKey, household_member, Id, id, Id);

many_loader!(/// External identifiers of a child.
    ExternalIdsOfChild, external_identifier, OwnerId, owner_id, Id,
    OwnerKind = crate::ids::owner::CHILD);
many_loader!(/// External identifiers of an episode.
    ExternalIdsOfEpisode, external_identifier, OwnerId, owner_id, Id,
    OwnerKind = crate::ids::owner::EPISODE);
many_loader!(/// External identifiers of a case.
    ExternalIdsOfCase, external_identifier, OwnerId, owner_id, Id,
    OwnerKind = crate::ids::owner::CASE);
