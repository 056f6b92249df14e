//! Identities: bearer tokens and API keys resolved into a subject, roles and area codes.
