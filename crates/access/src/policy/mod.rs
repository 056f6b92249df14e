//! The access policy: operations × collections granted to roles, with area scopes and masked
//! fields.
