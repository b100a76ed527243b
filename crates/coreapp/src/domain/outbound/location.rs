//! `location` (spec §2.4.3): coordinates required, as numbers or numeric strings.

use super::fields::{number, optional_str, reject, Object};
use serde_json::{json, Value};
use wa_api::ApiError;

pub fn location_object(location: &Object) -> Result<Value, ApiError> {
    reject(
        location,
        &[
            "body",
            "id",
            "caption",
            "filename",
            "namespace",
            "element_name",
        ],
        "type",
        "location",
    )?;
    let longitude = number(location, "longitude")?;
    let latitude = number(location, "latitude")?;
    if !(-180.0..=180.0).contains(&longitude) {
        return Err(ApiError::invalid_parameter(
            "longitude",
            &longitude.to_string(),
        ));
    }
    if !(-90.0..=90.0).contains(&latitude) {
        return Err(ApiError::invalid_parameter(
            "latitude",
            &latitude.to_string(),
        ));
    }
    let mut out = json!({ "longitude": longitude, "latitude": latitude });
    for key in ["name", "address"] {
        if let Some(text) = optional_str(location, key)? {
            out[key] = text.into();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: Value) -> Result<Value, ApiError> {
        location_object(v.as_object().unwrap())
    }

    #[test]
    fn location_rules() {
        let ok = check(json!({"longitude": "-122.4", "latitude": 37.7, "name": "HQ"})).unwrap();
        assert_eq!(
            ok,
            json!({"longitude": -122.4, "latitude": 37.7, "name": "HQ"})
        );
        assert_eq!(
            check(json!({"latitude": 1})).unwrap_err().first_code(),
            1008
        );
        assert_eq!(
            check(json!({"longitude": 200, "latitude": 1}))
                .unwrap_err()
                .first_code(),
            1009
        );
        assert_eq!(
            check(json!({"longitude": 1, "latitude": 1, "caption": "x"}))
                .unwrap_err()
                .first_code(),
            1010
        );
    }
}
