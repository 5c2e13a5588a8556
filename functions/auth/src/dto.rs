//! Wire types of the auth endpoints: what callers send, checked into domain values by the rules in
//! `validate`, and what they get back (camelCase JSON).

use serde::{Deserialize, Serialize};

use crate::error::AuthError;
use crate::model::{NewUser, User};
use crate::validate;

/// Body of `POST /auth/signup/basic`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignupInput {
    /// Email, unique case-insensitively.
    pub email: String,
    /// Password, 6 to 100 characters.
    pub password: String,
    /// Display name, 1 to 200 characters.
    pub name: String,
    /// Optional profile picture URL.
    #[serde(default)]
    pub profile_pic_url: Option<String>,
}

impl TryFrom<SignupInput> for NewUser {
    type Error = AuthError;

    fn try_from(input: SignupInput) -> Result<Self, AuthError> {
        validate::password(&input.password)?;
        Ok(NewUser {
            email: validate::email(&input.email)?,
            name: validate::name(&input.name)?,
            profile_pic_url: validate::picture_url(input.profile_pic_url)?,
            password: input.password,
        })
    }
}

/// Body of `PUT /auth/profile`: the fields to change; an absent field keeps its value and an
/// empty `profilePicUrl` removes the picture.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileUpdateInput {
    /// New display name, 1 to 200 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// New profile picture URL, or `""` to remove it.
    #[serde(default)]
    pub profile_pic_url: Option<String>,
}

/// Body of `POST /auth/signin/basic`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SigninInput {
    /// Email the account was created with (any case).
    pub email: String,
    /// The account's password.
    pub password: String,
}

/// Body of `POST /auth/token/refresh`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshInput {
    /// The refresh token issued with the access token in `Authorization`.
    pub refresh_token: String,
}

/// An id taken from the path (`/auth/profile/id/:id`) or sent directly over NATS.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdInput {
    /// A UUID.
    pub id: String,
}

/// Body of `POST /auth/admin/apikey`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateApiKeyInput {
    /// What the key is for, shown to admins.
    pub comment: String,
}

/// Reply of `POST /auth/admin/apikey`: the plaintext key, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedApiKey {
    /// The key's id, used to revoke it.
    pub id: String,
    /// The plaintext key; only its hash is stored.
    pub key: String,
}

/// Body of `PUT /auth/admin/roles/id/:id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetRolesInput {
    /// The user whose roles change.
    pub id: String,
    /// The complete new set of role codes.
    pub roles: Vec<String>,
}

/// An access token and the refresh token that renews it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    /// Short-lived RS256 JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Long-lived RS256 JWT for `POST /auth/token/refresh`.
    pub refresh_token: String,
}

/// A user as its owner sees it: email and roles included.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateUser {
    /// User id.
    pub id: String,
    /// Email address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Profile picture URL.
    pub profile_pic_url: Option<String>,
    /// Whether the email is verified.
    pub verified: bool,
    /// Role codes.
    pub roles: Vec<String>,
}

impl From<User> for PrivateUser {
    fn from(user: User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email,
            name: user.name,
            profile_pic_url: user.profile_pic_url,
            verified: user.verified,
            roles: user.roles,
        }
    }
}

/// A user as anyone sees it: name and picture.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicUser {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Profile picture URL.
    pub profile_pic_url: Option<String>,
}

impl From<User> for PublicUser {
    fn from(user: User) -> Self {
        Self {
            id: user.id.to_string(),
            name: user.name,
            profile_pic_url: user.profile_pic_url,
        }
    }
}

/// Reply of sign-up and sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    /// The signed-in user.
    pub user: PrivateUser,
    /// Its new token pair.
    pub tokens: TokenPair,
}

/// A reply that only says what happened.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    /// What happened, for people.
    pub message: String,
}

impl Message {
    /// A reply carrying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}
