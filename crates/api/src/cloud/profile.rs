//! `/{phone-number-id}/whatsapp_business_profile`: Cloud's one profile object is On-Prem's
//! business profile plus the `about` text, and Cloud names the verticals with codes where
//! On-Prem uses display names; this is the translation both ways.

use super::{check_messaging_product, CloudError, MESSAGING_PRODUCT};
use serde_json::{json, Map, Value};

macro_rules! verticals {
    ($( $variant:ident = $cloud:literal, $onprem:literal; )*) => {
        /// A business vertical, by its Cloud code and its On-Prem name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Vertical { $( $variant, )* }

        impl Vertical {
            pub const ALL: &'static [Vertical] = &[ $( Vertical::$variant, )* ];

            pub fn cloud_code(self) -> &'static str { match self { $( Vertical::$variant => $cloud, )* } }

            pub fn onprem_name(self) -> &'static str { match self { $( Vertical::$variant => $onprem, )* } }
        }
    };
}

verticals! {
    Automotive = "AUTO", "Automotive";
    Beauty = "BEAUTY", "Beauty, Spa and Salon";
    Apparel = "APPAREL", "Clothing and Apparel";
    Education = "EDU", "Education";
    Entertainment = "ENTERTAIN", "Entertainment";
    EventPlanning = "EVENT_PLAN", "Event Planning and Service";
    Finance = "FINANCE", "Finance and Banking";
    Grocery = "GROCERY", "Food and Grocery";
    Government = "GOVT", "Public Service";
    Hotel = "HOTEL", "Hotel and Lodging";
    Health = "HEALTH", "Medical and Health";
    NonProfit = "NONPROFIT", "Non-profit";
    ProfessionalServices = "PROF_SERVICES", "Professional Services";
    Retail = "RETAIL", "Shopping and Retail";
    Travel = "TRAVEL", "Travel and Transportation";
    Restaurant = "RESTAURANT", "Restaurant";
    Other = "OTHER", "Other";
}

impl Vertical {
    fn from_cloud(code: &str) -> Option<Vertical> {
        Self::ALL.iter().copied().find(|v| v.cloud_code() == code)
    }

    fn from_onprem(name: &str) -> Option<Vertical> {
        Self::ALL.iter().copied().find(|v| v.onprem_name() == name)
    }
}

/// A Cloud profile update split into the two On-Prem calls it takes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfileUpdate {
    /// For `PATCH /v1/settings/profile/about`.
    pub about: Option<String>,
    /// For `POST /v1/settings/business/profile` (which merges what it is given).
    pub business: Map<String, Value>,
}

const BUSINESS_FIELDS: &[&str] = &["address", "description", "email", "websites"];

/// Checks and splits a Cloud update body. Field values are the core's to check, except the
/// vertical, whose Cloud code is translated here.
pub fn profile_update(body: &Map<String, Value>) -> Result<ProfileUpdate, CloudError> {
    check_messaging_product(body)?;
    let about = match body.get("about") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => {
            return Err(CloudError::invalid_parameter(
                "Param about must be a string.",
            ))
        }
    };
    let mut business: Map<String, Value> = BUSINESS_FIELDS
        .iter()
        .filter_map(|name| Some((name.to_string(), body.get(*name)?.clone())))
        .collect();
    match body.get("vertical") {
        None | Some(Value::Null) => {}
        Some(Value::String(code)) => {
            let vertical = Vertical::from_cloud(code).ok_or_else(unknown_vertical)?;
            business.insert("vertical".into(), vertical.onprem_name().into());
        }
        Some(_) => return Err(unknown_vertical()),
    }
    Ok(ProfileUpdate { about, business })
}

fn unknown_vertical() -> CloudError {
    let codes: Vec<&str> = Vertical::ALL.iter().map(|v| v.cloud_code()).collect();
    CloudError::invalid_parameter(format!(
        "Param vertical must be one of {{{}}}.",
        codes.join(", ")
    ))
}

/// The Cloud profile from On-Prem's business profile object and about text.
pub fn profile_answer(business: &Value, about: &str) -> Value {
    let text = |name: &str| business[name].as_str().unwrap_or_default().to_string();
    let vertical =
        Vertical::from_onprem(&text("vertical")).map_or("UNDEFINED", Vertical::cloud_code);
    let websites = business["websites"].as_array().cloned().unwrap_or_default();
    json!({ "data": [{
        "messaging_product": MESSAGING_PRODUCT,
        "about": about,
        "address": text("address"),
        "description": text("description"),
        "email": text("email"),
        "vertical": vertical,
        "websites": websites,
    }]})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(body: Value) -> Result<ProfileUpdate, CloudError> {
        profile_update(body.as_object().unwrap())
    }

    #[test]
    fn an_update_is_split_and_the_vertical_translated() {
        let split = update(json!({"messaging_product": "whatsapp", "about": "Open 9-5",
            "vertical": "RETAIL", "email": "a@b.c", "websites": ["https://a.example"]}))
        .unwrap();
        assert_eq!(split.about.as_deref(), Some("Open 9-5"));
        assert_eq!(
            Value::Object(split.business),
            json!({"email": "a@b.c", "websites": ["https://a.example"], "vertical": "Shopping and Retail"})
        );
        assert_eq!(update(json!({"about": "x"})).unwrap_err().code.code(), 100);
        let bad = json!({"messaging_product": "whatsapp", "vertical": "SHOPS"});
        assert_eq!(update(bad).unwrap_err().code.code(), 100);
        let bad = json!({"messaging_product": "whatsapp", "about": 3});
        assert_eq!(update(bad).unwrap_err().code.code(), 100);
    }

    #[test]
    fn the_answer_has_cloud_verticals() {
        let business = json!({"address": "1 Road", "vertical": "Other", "websites": []});
        let answer = profile_answer(&business, "hi");
        assert_eq!(answer["data"][0]["vertical"], "OTHER");
        assert_eq!(answer["data"][0]["about"], "hi");
        assert_eq!(answer["data"][0]["email"], "");
        assert_eq!(
            profile_answer(&json!({}), "")["data"][0]["vertical"],
            "UNDEFINED"
        );
        for vertical in Vertical::ALL {
            assert_eq!(
                Vertical::from_onprem(vertical.onprem_name()),
                Some(*vertical)
            );
            assert_eq!(Vertical::from_cloud(vertical.cloud_code()), Some(*vertical));
        }
    }
}
