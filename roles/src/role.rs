//! The five node roles and the order they start in.

use std::fmt;
use std::str::FromStr;

/// A node role. Roles start in the order of [`Role::ALL`] and stop in reverse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Coordinator,
    Overlord,
    Historical,
    Realtime,
    Broker,
}

impl Role {
    /// Every role, in start order: the control plane first, then data nodes, then the
    /// broker that queries them.
    pub const ALL: [Role; 5] = [
        Role::Coordinator,
        Role::Overlord,
        Role::Historical,
        Role::Realtime,
        Role::Broker,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Overlord => "overlord",
            Role::Historical => "historical",
            Role::Realtime => "realtime",
            Role::Broker => "broker",
        }
    }

    /// Parses a comma-separated list (`all` allowed); the result is in start order.
    pub fn parse_list(list: &str) -> Result<Vec<Role>, String> {
        let mut roles = Vec::new();
        for item in list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            if item.eq_ignore_ascii_case("all") {
                roles.extend(Role::ALL);
            } else {
                roles.push(item.parse()?);
            }
        }
        if roles.is_empty() {
            return Err("no roles given".into());
        }
        roles.sort();
        roles.dedup();
        Ok(roles)
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Role, String> {
        let normalized = text.trim().to_ascii_lowercase().replace(['-', '_'], "");
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == normalized)
            .ok_or_else(|| {
                format!(
                    "unknown role {text:?} (expected all, coordinator, overlord, historical, realtime or broker)"
                )
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_in_start_order() {
        assert_eq!(Role::parse_list("all").unwrap(), Role::ALL.to_vec());
        assert_eq!(
            Role::parse_list("broker, Coordinator,overlord").unwrap(),
            vec![Role::Coordinator, Role::Overlord, Role::Broker]
        );
        assert!(Role::parse_list("router").is_err());
        assert!(Role::parse_list("").is_err());
    }
}
