//! Timestamps as in-toto and SPDX write them: RFC 3339, UTC, whole seconds, `Z`.

use std::time::SystemTime;

pub(crate) fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn utc_seconds_with_z() {
        let t = UNIX_EPOCH + Duration::from_millis(1_637_161_200_500);
        assert_eq!(rfc3339(t), "2021-11-17T15:00:00Z");
    }
}
