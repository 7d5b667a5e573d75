//! The gateway configuration as an [`ExtractCall`]: routes pick the tool, rules
//! read the arguments.

use super::extract::{CallRequest, ExtractCall, ExtractError};
use crate::gateway::{CompiledGateway, ExtractionError};
use crate::pop::Args;

impl ExtractCall for CompiledGateway {
    fn needs_body(&self, parts: &http::request::Parts) -> bool {
        self.match_parts(parts).is_some_and(|m| m.needs_body())
    }

    fn extract(&self, request: &CallRequest<'_>) -> Result<(String, Args), ExtractError> {
        let parts = request.parts;
        let route = self
            .match_parts(parts)
            .ok_or_else(|| ExtractError::NoRoute {
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
            })?;
        let extracted =
            self.extract_parts(&route, parts, request.body)
                .map_err(|error| match error {
                    ExtractionError::BodyTooLarge { max, .. } => {
                        ExtractError::BodyTooLarge { limit: max }
                    }
                    other => ExtractError::Route(other),
                })?;
        Ok((extracted.tool, extracted.args))
    }
}
