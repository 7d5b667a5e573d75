//! The gateway ConfigMap, read by the authorizer's own parser: a config the
//! schema lets through but the server would refuse (a route naming no tool,
//! two conflicting patterns) fails here, not at the pod's first start.

use tenuo_authz::gateway::CompiledGateway;

use super::checks::{violation, Violation};
use super::objects::{Object, Typed};

/// The ConfigMap key the chart mounts as `TENUO_GATEWAY_CONFIG`.
pub(crate) const KEY: &str = "gateway.yaml";

pub(crate) fn check(objects: &[Typed], out: &mut Vec<Violation>) {
    for t in objects {
        let Object::ConfigMap(cm) = &t.object else {
            continue;
        };
        let Some(yaml) = cm.data.as_ref().and_then(|d| d.get(KEY)) else {
            continue;
        };
        if let Err(e) = CompiledGateway::from_yaml(yaml) {
            let msg = format!("{KEY} would be refused by the authorizer: {e}");
            out.push(violation("gateway-config", &t.id, msg));
        }
    }
}
