//! The editorial workflow: which move is legal from which state. The store applies a move only
//! from the state this allows, and checks it again as the write lands.

use crate::error::BlogError;
use crate::model::Blog;

/// A step of the editorial workflow; the store applies it only from the state `check` allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Author sends a draft to the editors.
    Submit,
    /// Author takes a submitted draft back.
    Withdraw,
    /// Editor makes a submitted blog live.
    Publish,
    /// Editor takes a live blog down.
    Unpublish,
}

impl Move {
    /// Checks the move is legal from `blog`'s state; explains why not otherwise.
    pub fn check(&self, blog: &Blog) -> Result<(), BlogError> {
        blog.ensure_active()?;
        let illegal = |why: &str| Err(BlogError::IllegalMove(why.to_owned()));
        match self {
            Self::Submit if blog.submitted => illegal("the blog is already submitted"),
            Self::Submit if !blog.drafted => illegal("the blog has no draft changes to submit"),
            Self::Withdraw if !blog.submitted => illegal("only a submitted blog can be withdrawn"),
            Self::Publish if !blog.submitted => {
                illegal("only a submitted blog can be published; the author must submit it first")
            }
            Self::Unpublish if !blog.published => illegal("the blog is not published"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use contracts::{Caller, CallerUser};

    use super::*;
    use crate::model::Draft;

    fn caller() -> Caller {
        Caller {
            user: CallerUser {
                id: "author-1".into(),
                name: "Ann".into(),
                email: None,
                profile_pic_url: None,
                roles: vec!["AUTHOR".into()],
            },
            token_id: "token".into(),
            expires_at: None,
        }
    }

    /// A blog in the state named by its workflow flags.
    fn blog(drafted: bool, submitted: bool, published: bool) -> Blog {
        let content = Draft {
            title: "Title".into(),
            description: "About".into(),
            draft_text: "Text".into(),
            slug: "a-blog".into(),
            img_url: None,
            tags: vec!["RUST".into()],
        };
        Blog {
            drafted,
            submitted,
            published,
            ..Blog::draft(content, &caller())
        }
    }

    /// What `check` answers: `Ok` or the start of the 400's message.
    fn outcome(step: Move, blog: &Blog) -> Result<(), String> {
        match step.check(blog) {
            Ok(()) => Ok(()),
            Err(BlogError::IllegalMove(why)) => Err(why),
            Err(other) => panic!("{step:?}: expected an illegal move, got {other:?}"),
        }
    }

    const SUBMITTED: &str = "the blog is already submitted";
    const NOTHING: &str = "the blog has no draft changes to submit";
    const NOT_SUBMITTED: &str = "only a submitted blog can be withdrawn";
    const UNREVIEWED: &str =
        "only a submitted blog can be published; the author must submit it first";
    const NOT_LIVE: &str = "the blog is not published";

    #[test]
    fn every_move_from_every_state() {
        let ok = Ok(());
        let no = |why: &str| Err(why.to_owned());
        // (drafted, submitted, published): [Submit, Withdraw, Publish, Unpublish]
        let table = [
            (
                (true, false, false),
                [ok.clone(), no(NOT_SUBMITTED), no(UNREVIEWED), no(NOT_LIVE)],
            ),
            (
                (false, true, false),
                [no(SUBMITTED), ok.clone(), ok.clone(), no(NOT_LIVE)],
            ),
            (
                (true, true, false),
                [no(SUBMITTED), ok.clone(), ok.clone(), no(NOT_LIVE)],
            ),
            (
                (false, false, false),
                [no(NOTHING), no(NOT_SUBMITTED), no(UNREVIEWED), no(NOT_LIVE)],
            ),
            (
                (false, false, true),
                [no(NOTHING), no(NOT_SUBMITTED), no(UNREVIEWED), ok.clone()],
            ),
            (
                (true, false, true),
                [ok.clone(), no(NOT_SUBMITTED), no(UNREVIEWED), ok.clone()],
            ),
            (
                (false, true, true),
                [no(SUBMITTED), ok.clone(), ok.clone(), ok.clone()],
            ),
            (
                (true, true, true),
                [no(SUBMITTED), ok.clone(), ok.clone(), ok.clone()],
            ),
        ];
        let steps = [Move::Submit, Move::Withdraw, Move::Publish, Move::Unpublish];
        for ((drafted, submitted, published), expected) in table {
            let blog = blog(drafted, submitted, published);
            for (step, expected) in steps.into_iter().zip(expected) {
                assert_eq!(
                    outcome(step, &blog),
                    expected,
                    "{step:?} from drafted={drafted} submitted={submitted} published={published}"
                );
            }
        }
    }

    #[test]
    fn no_move_applies_to_a_deleted_blog() {
        for step in [Move::Submit, Move::Withdraw, Move::Publish, Move::Unpublish] {
            let deleted = Blog {
                status: false,
                ..blog(false, true, true)
            };
            match step.check(&deleted) {
                Err(BlogError::NotFound(why)) => assert!(why.ends_with("was deleted"), "{why}"),
                other => panic!("{step:?} on a deleted blog: {other:?}"),
            }
        }
    }
}
