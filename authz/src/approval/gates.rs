//! The `tenuo.approval_gates` extension: which calls on which tools need
//! approvals. Parsed once per chain; evaluated per call.
//!
//! The extension is the CBOR of a map from tool name to
//! `{"args": null | {argument: gate}, "message"?: text}`, where `null` gates
//! every call of the tool and an argument gate is `"all"` (any value), a
//! constraint `[type_id, payload]` (values it admits need approval), or
//! `{"exempt": constraint}` (values it admits do not). Tools are matched by exact
//! name: `*` in a gate map is a tool called `*`.

use std::collections::BTreeMap;

use ciborium::Value;

use super::error::GateError;
use crate::constraint::{ArgValue, Constraint};
use crate::pop::Args;

/// Extension key of the gate map.
pub const APPROVAL_GATES_EXTENSION: &str = "tenuo.approval_gates";

/// The gate of one argument.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ArgGate {
    /// Every value needs approval.
    All,
    /// Values the constraint admits need approval.
    Constraint(Constraint),
    /// Values the constraint admits are exempt; every other value needs approval.
    Exempt(Constraint),
}

/// The gate of one tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolGate {
    /// `None`: every call needs approval. Otherwise, per-argument gates.
    pub args: Option<BTreeMap<String, ArgGate>>,
}

/// A parsed gate map.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GateMap(pub BTreeMap<String, ToolGate>);

impl GateMap {
    /// Parses the extension bytes; `None` when absent or empty (no gates).
    pub fn parse(raw: Option<&[u8]>) -> Result<Option<Self>, GateError> {
        let raw = match raw {
            Some(raw) if !raw.is_empty() => raw,
            _ => return Ok(None),
        };
        let value: Value =
            ciborium::de::from_reader(raw).map_err(|_| GateError::Malformed("not CBOR"))?;
        let Value::Map(tools) = value else {
            return Err(GateError::Malformed("not a map"));
        };
        let mut map = BTreeMap::new();
        for (tool, gate) in &tools {
            let Value::Text(tool) = tool else {
                return Err(GateError::Malformed("tool name is not text"));
            };
            // A repeated tool: the last entry stands, as in the reference's map.
            map.insert(tool.clone(), tool_gate(gate)?);
        }
        Ok(Some(Self(map)))
    }

    /// Encodes the map as the extension carries it.
    pub fn to_cbor_bytes(&self) -> Vec<u8> {
        let tools = self
            .0
            .iter()
            .map(|(tool, gate)| {
                let args = match &gate.args {
                    None => Value::Null,
                    Some(args) => Value::Map(
                        args.iter()
                            .map(|(name, g)| (Value::Text(name.clone()), g.to_cbor()))
                            .collect(),
                    ),
                };
                (
                    Value::Text(tool.clone()),
                    Value::Map(vec![(Value::Text("args".into()), args)]),
                )
            })
            .collect();
        let mut out = Vec::new();
        let _ = ciborium::ser::into_writer(&Value::Map(tools), &mut out);
        out
    }

    /// The gate of `tool`, if any.
    pub fn get(&self, tool: &str) -> Option<&ToolGate> {
        self.0.get(tool)
    }

    /// Whether the call `tool(args)` needs approvals. An argument a gate names but
    /// the call lacks needs approval (the gate fails safe). A constraint that
    /// cannot be evaluated is an error, as in the reference.
    pub fn requires_approval(&self, tool: &str, args: &Args) -> Result<bool, GateError> {
        let Some(gate) = self.get(tool) else {
            return Ok(false);
        };
        let Some(arg_gates) = &gate.args else {
            return Ok(true);
        };
        for (name, arg_gate) in arg_gates {
            let Some(value) = args.get(name) else {
                return Ok(true);
            };
            let fires = match arg_gate {
                ArgGate::All => true,
                ArgGate::Constraint(c) => admits(c, name, value)?,
                ArgGate::Exempt(c) => !admits(c, name, value)?,
            };
            if fires {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl ArgGate {
    /// The gate's CBOR item.
    pub fn to_cbor(&self) -> Value {
        match self {
            ArgGate::All => Value::Text("all".into()),
            ArgGate::Constraint(c) => c.to_cbor(),
            ArgGate::Exempt(c) => Value::Map(vec![(Value::Text("exempt".into()), c.to_cbor())]),
        }
    }
}

fn admits(c: &Constraint, argument: &str, value: &ArgValue) -> Result<bool, GateError> {
    c.eval(value, 0).map_err(|mismatch| GateError::Evaluation {
        argument: argument.to_owned(),
        mismatch,
    })
}

fn tool_gate(v: &Value) -> Result<ToolGate, GateError> {
    let Value::Map(entries) = v else {
        return Err(GateError::Malformed("tool gate is not a map"));
    };
    let mut args = None;
    let mut message = false;
    for (key, value) in entries {
        match key {
            Value::Text(k) if k == "args" => {
                if args.is_some() {
                    return Err(GateError::Malformed("duplicate args"));
                }
                args = Some(match value {
                    Value::Null => None,
                    Value::Map(arg_gates) => {
                        let mut map = BTreeMap::new();
                        for (name, gate) in arg_gates {
                            let Value::Text(name) = name else {
                                return Err(GateError::Malformed("argument name is not text"));
                            };
                            map.insert(name.clone(), arg_gate(gate)?);
                        }
                        Some(map)
                    }
                    _ => return Err(GateError::Malformed("args is neither null nor a map")),
                });
            }
            Value::Text(k) if k == "message" => {
                // Display text only; it must still be text, once.
                if message || !matches!(value, Value::Text(_)) {
                    return Err(GateError::Malformed("message is not text"));
                }
                message = true;
            }
            Value::Text(_) => {}
            _ => return Err(GateError::Malformed("tool gate key is not text")),
        }
    }
    let args = args.ok_or(GateError::Malformed("tool gate has no args"))?;
    Ok(ToolGate { args })
}

fn arg_gate(v: &Value) -> Result<ArgGate, GateError> {
    match v {
        Value::Text(t) if t == "all" => Ok(ArgGate::All),
        Value::Text(_) => Err(GateError::Malformed("unknown argument gate")),
        Value::Array(_) => Constraint::from_cbor(v, 0)
            .map(ArgGate::Constraint)
            .map_err(|_| GateError::Malformed("argument gate constraint does not decode")),
        Value::Map(entries) => match entries.as_slice() {
            [(Value::Text(k), inner)] if k == "exempt" => {
                let c = Constraint::from_cbor(inner, 0)
                    .map_err(|_| GateError::Malformed("exempt constraint does not decode"))?;
                // Types whose exemption is meaningless or cannot be narrowed.
                match c {
                    Constraint::Wildcard
                    | Constraint::Any(_)
                    | Constraint::Not(_)
                    | Constraint::Cel(_)
                    | Constraint::Unknown { .. } => Err(GateError::Malformed(
                        "constraint type not allowed in exempt",
                    )),
                    c => Ok(ArgGate::Exempt(c)),
                }
            }
            _ => Err(GateError::Malformed(
                "argument gate map is not {exempt: constraint}",
            )),
        },
        _ => Err(GateError::Malformed(
            "argument gate is not all, a constraint or exempt",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, ArgValue)]) -> Args {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn whole_tool_argument_and_exempt_gates() {
        let mut tools = BTreeMap::new();
        tools.insert("delete".to_owned(), ToolGate { args: None });
        let mut per_arg = BTreeMap::new();
        per_arg.insert(
            "amount".to_owned(),
            ArgGate::Constraint(Constraint::range(Some(1000.0), None).unwrap()),
        );
        per_arg.insert(
            "env".to_owned(),
            ArgGate::Exempt(Constraint::one_of(["dev", "staging"])),
        );
        tools.insert(
            "pay".to_owned(),
            ToolGate {
                args: Some(per_arg),
            },
        );
        let map = GateMap(tools);
        let back = GateMap::parse(Some(&map.to_cbor_bytes())).unwrap().unwrap();
        assert_eq!(back, map);

        let small_dev = args(&[
            ("amount", ArgValue::Integer(5)),
            ("env", ArgValue::String("dev".into())),
        ]);
        assert!(map.requires_approval("delete", &Args::new()).unwrap());
        assert!(!map.requires_approval("read", &Args::new()).unwrap());
        assert!(!map.requires_approval("pay", &small_dev).unwrap());
        let big = args(&[
            ("amount", ArgValue::Integer(5000)),
            ("env", ArgValue::String("dev".into())),
        ]);
        assert!(map.requires_approval("pay", &big).unwrap());
        let prod = args(&[
            ("amount", ArgValue::Integer(5)),
            ("env", ArgValue::String("prod".into())),
        ]);
        assert!(map.requires_approval("pay", &prod).unwrap());
        // A gated argument that is absent fires the gate.
        assert!(map
            .requires_approval("pay", &args(&[("amount", ArgValue::Integer(5))]))
            .unwrap());
    }

    #[test]
    fn malformed_maps_are_errors_and_empty_is_none() {
        assert_eq!(GateMap::parse(None).unwrap(), None);
        assert_eq!(GateMap::parse(Some(&[])).unwrap(), None);
        assert!(GateMap::parse(Some(&[0xff])).is_err());
        let no_args = Value::Map(vec![(Value::Text("t".into()), Value::Map(vec![]))]);
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(&no_args, &mut bytes).unwrap();
        assert!(GateMap::parse(Some(&bytes)).is_err());
    }
}
