//! Tenuo v1 warrant authorizer.
