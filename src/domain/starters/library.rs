//! The built-in library: listening prompts written for Hallway, for every stage of the arc.
//!
//! Each is an open question addressed to the other person, with two or three deeper follow-ups to
//! keep listening and a hint of what to listen for: what in the answer could become a follow-up
//! (something to send, someone to introduce, a next meeting). Ids are stable: organizers switch
//! prompts off by id and their counters are kept by id, so a prompt's id never changes and a
//! retired prompt's id is not reused.

use super::Stage::{self, Advice, Challenges, Event, HowToHelp, Story, WhoToMeet, WorkNow};

/// Whom a prompt fits: anyone, or a person with a topic (either way, or one way), a company or a
/// headline they share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A general listening question, asked of anyone.
    Anyone,
    /// About one of their topics, whichever way they picked it.
    Topic,
    /// About a topic they can talk about.
    TopicExpert,
    /// About a topic they want to learn.
    TopicLearner,
    /// About the company they share.
    Company,
    /// About the headline they share.
    Headline,
}

#[derive(Debug)]
pub struct Builtin {
    pub id: &'static str,
    pub stage: Stage,
    pub audience: Audience,
    pub text: &'static str,
    pub follow_ups: &'static [&'static str],
    pub listen_for: &'static str,
}

macro_rules! prompts {
    ($(($id:literal, $stage:ident, $audience:ident, $text:literal, [$($follow_up:literal),+ $(,)?], $listen_for:literal)),+ $(,)?) => {
        &[$(Builtin {
            id: $id,
            stage: $stage,
            audience: Audience::$audience,
            text: $text,
            follow_ups: &[$($follow_up),+],
            listen_for: $listen_for,
        }),+]
    };
}

pub const LIBRARY: &[Builtin] = prompts![
    // The event: the opener everyone shares.
    (
        "event-01",
        Event,
        Anyone,
        "What brought you to {event}?",
        ["What were you hoping to find here?", "What would make the trip worth it for you?"],
        "What they came for: a talk to point them to, or someone here to introduce them to."
    ),
    (
        "event-02",
        Event,
        Anyone,
        "Which talk or conversation here has stayed with you so far?",
        ["What about it stuck with you?", "How might it change what you do next week?"],
        "An idea they want to try: a resource to send, or a chat later about how it went."
    ),
    (
        "event-03",
        Event,
        Anyone,
        "What are you most looking forward to at {event}?",
        ["What drew you to that?", "What would you like to walk away with?"],
        "A session or a person they hope to catch: you may know someone to introduce."
    ),
    (
        "event-04",
        Event,
        Anyone,
        "How does {event} compare with other events you have been to?",
        ["What makes an event worth the trip for you?", "What would you change about this one?"],
        "The kind of community they value: other events or groups to tell them about."
    ),
    (
        "event-05",
        Event,
        Anyone,
        "What is the best thing you have heard in the hallway here so far?",
        ["Who said it?", "What did it make you rethink?"],
        "A person they would like to meet again, or one you could introduce them to."
    ),
    (
        "event-06",
        Event,
        Anyone,
        "Who have you met here that surprised you?",
        ["What made that conversation stand out?", "What will you do with what they told you?"],
        "The kind of people they connect with: someone like that you could introduce."
    ),
    (
        "event-07",
        Event,
        Anyone,
        "What question did you come to {event} hoping someone could answer?",
        [
            "Whom have you asked so far?",
            "What answers have you heard?",
            "What would a good answer change for you?"
        ],
        "An open question you could help answer later, or a person who can."
    ),
    (
        "event-08",
        Event,
        Anyone,
        "How did you choose which sessions to go to today?",
        [
            "Which one turned out better than you expected?",
            "What would you have liked to see on the program?"
        ],
        "Interests the program missed: an article, a meetup or a person to point them to."
    ),
    (
        "event-09",
        Event,
        Anyone,
        "What would make today a great day for you?",
        ["What have you done about it so far?", "Who could help you get there?"],
        "Today's goal: someone here you could walk them over to."
    ),
    (
        "event-10",
        Event,
        Anyone,
        "What is one thing you have learned here that you want to try at work?",
        ["What will be the first step?", "Whom at work would you need on board?"],
        "A plan you could check in on in a few weeks."
    ),
    (
        "event-11",
        Event,
        Anyone,
        "If you gave a talk at {event} next year, what would it be about?",
        ["What story would you open with?", "Who would you most want in the audience?"],
        "A talk idea: an offer to review their proposal, or a meetup that would host it."
    ),
    (
        "event-12",
        Event,
        Anyone,
        "{first_name}, what has been the highlight of {event} for you so far?",
        ["What made it stand out?", "What are you going to do with it when you get back?"],
        "Something they want to act on: a follow-up chat once they have tried it."
    ),
    // Their story: how they got here.
    (
        "story-01",
        Story,
        Anyone,
        "How did you end up doing the work you do now?",
        ["What was the turning point?", "What would you be doing otherwise?"],
        "A path they are proud of or still exploring: people with a similar path to introduce."
    ),
    (
        "story-02",
        Story,
        Anyone,
        "What was your first job, and what did it teach you?",
        ["What from it do you still use?", "How did you move on from there?"],
        "Lessons they carry: a story worth hearing in full over coffee later."
    ),
    (
        "story-03",
        Story,
        Anyone,
        "What decision early in your career shaped where you are today?",
        ["What made you choose that way?", "How does it look to you now?"],
        "How they make big choices: a decision ahead of them you could help think through."
    ),
    (
        "story-04",
        Story,
        Anyone,
        "Who helped you most along the way?",
        ["What did they do that made the difference?", "How do you pass that on now?"],
        "How they like to be helped, and whether they mentor others."
    ),
    (
        "story-05",
        Story,
        Anyone,
        "What got you interested in this field in the first place?",
        ["What keeps you in it?", "What has changed since you started?"],
        "What still excites them: news or people in that corner to share later."
    ),
    (
        "story-06",
        Story,
        Anyone,
        "What have you worked on that you are still proud of?",
        ["What made it hard?", "What did you learn there that you still use?"],
        "Work they love to talk about: a write-up to ask for, or a team to introduce them to."
    ),
    (
        "story-07",
        Story,
        Anyone,
        "What project changed the way you think about your work?",
        ["What did it change?", "What would you do differently with what you know now?"],
        "A lesson they could share with others: an invitation to speak or write."
    ),
    (
        "story-08",
        Story,
        Anyone,
        "How has your work changed over the last few years?",
        ["What drove the change?", "What do you miss from before?"],
        "Where they are heading: people or openings on that road to tell them about."
    ),
    (
        "story-09",
        Story,
        Anyone,
        "What did you imagine you would be doing when you started out?",
        ["How close did you get?", "What surprised you on the way?"],
        "An old ambition still alive: someone who does it today, to introduce."
    ),
    (
        "story-10",
        Story,
        Anyone,
        "What mistake taught you more than any success?",
        ["How did you recover from it?", "What do you do differently now?"],
        "A hard-won lesson: ask whether they would share it with your team."
    ),
    (
        "story-11",
        Story,
        Anyone,
        "What is the most unexpected turn your career has taken?",
        ["How did you handle it?", "What did it open up for you?"],
        "Turns they are open to now: a lead or a conversation to pass on."
    ),
    (
        "story-t1",
        Story,
        TopicExpert,
        "How did you first get into {topic}?",
        [
            "What kept you going in the early days?",
            "What do you know now about {topic} that you wish you had known then?"
        ],
        "The resources that helped them: ask which they would recommend, and share yours."
    ),
    (
        "story-t2",
        Story,
        TopicLearner,
        "What made you want to learn {topic}?",
        ["What have you tried so far?", "Where are you getting stuck?"],
        "What they need to learn {topic}: an article, a course, or someone to introduce."
    ),
    (
        "story-t3",
        Story,
        Topic,
        "What was your first encounter with {topic} like?",
        ["What surprised you about it?", "How has your view of {topic} changed since?"],
        "Where they stand on {topic} now: a talk or person that fits, to send their way."
    ),
    (
        "story-c1",
        Story,
        Company,
        "How did you come to work at {company}?",
        ["What made you say yes?", "What has surprised you since you joined?"],
        "What they look for in a workplace: people or openings to share."
    ),
    (
        "story-h1",
        Story,
        Headline,
        "Your profile says \"{headline}\": what is the story behind that?",
        ["Which part of it do you enjoy most?", "What is missing from that line?"],
        "The part of their work they want to grow: a person or project to connect them with."
    ),
    // Their work now.
    (
        "work-01",
        WorkNow,
        Anyone,
        "What are you working on these days that excites you most?",
        ["What got you started on it?", "What would success look like?"],
        "A goal you could help with: a contact, a tool, a next conversation."
    ),
    (
        "work-02",
        WorkNow,
        Anyone,
        "What does a typical week look like for you?",
        [
            "Which part would you keep if you could drop the rest?",
            "What takes more time than it should?"
        ],
        "A time sink you know a fix for: a tool or an article to send."
    ),
    (
        "work-03",
        WorkNow,
        Anyone,
        "What problem are you trying to solve right now?",
        ["Who has the problem worst?", "What have you tried so far?"],
        "A problem someone you know has solved: an introduction."
    ),
    (
        "work-04",
        WorkNow,
        Anyone,
        "What part of your work do people misunderstand the most?",
        ["How do you usually explain it?", "What would you want them to see?"],
        "What they wish people knew: a chance to amplify their work later."
    ),
    (
        "work-05",
        WorkNow,
        Anyone,
        "Who do you build things for, and what do they need most?",
        ["How do you find out what they need?", "What surprised you about them lately?"],
        "The people they serve: someone you know among them to introduce."
    ),
    (
        "work-06",
        WorkNow,
        Anyone,
        "What are you learning at work right now?",
        ["How are you learning it?", "What would help you learn it faster?"],
        "Something they are learning: a resource to send or a person to introduce."
    ),
    (
        "work-07",
        WorkNow,
        Anyone,
        "What does your team look like, and how do you work together?",
        ["What makes the team work well?", "What would you change about how you work together?"],
        "How their team works: a practice of yours to share, or a hire they need."
    ),
    (
        "work-08",
        WorkNow,
        Anyone,
        "What is the most interesting thing you have shipped this year?",
        ["What was the hardest part?", "How did people react to it?"],
        "Work you could try and give them feedback on."
    ),
    (
        "work-09",
        WorkNow,
        Anyone,
        "How do you decide what to work on next?",
        ["Who has a say?", "What gets left out that you wish you could do?"],
        "An idea left on the shelf: a partner or a tool that could unlock it."
    ),
    (
        "work-10",
        WorkNow,
        Anyone,
        "What are you hoping to get done before the end of the year?",
        ["What stands in the way?", "What would make it easier?"],
        "A deadline and a goal: a check-in date to offer."
    ),
    (
        "work-t1",
        WorkNow,
        TopicExpert,
        "How does {topic} show up in your work day to day?",
        [
            "What do you reach for first when something goes wrong?",
            "What do most people get wrong about {topic}?"
        ],
        "A practice they swear by: something to try and report back on."
    ),
    (
        "work-t2",
        WorkNow,
        Topic,
        "What are you doing with {topic} these days?",
        ["What made you choose it?", "Where do you want to take it next?"],
        "Where they want to go with {topic}: a resource or a person for the next step."
    ),
    (
        "work-t3",
        WorkNow,
        TopicLearner,
        "Where would {topic} help you most if you knew it well?",
        ["What keeps you from using it there today?", "Who around you already knows it?"],
        "A gap someone you know could fill: an introduction."
    ),
    (
        "work-c1",
        WorkNow,
        Company,
        "What is {company} working on that you are most excited about?",
        ["What is your part in it?", "What would surprise people about it?"],
        "A project of theirs you could help with or follow."
    ),
    (
        "work-c2",
        WorkNow,
        Company,
        "What is it like to work at {company} these days?",
        ["What keeps you there?", "What would you change if you could?"],
        "What they would change: a person or an idea that could help."
    ),
    (
        "work-h1",
        WorkNow,
        Headline,
        "Your profile says \"{headline}\": what does that look like on a normal day?",
        ["Which part of that takes most of your time?", "Which part would you like more of?"],
        "The part they want more of: an opening or a project to point them to."
    ),
    // What is hard or exciting in it.
    (
        "challenge-01",
        Challenges,
        Anyone,
        "What is the hardest problem on your plate right now?",
        ["What makes it hard?", "What have you tried that did not work?"],
        "A problem you or someone you know has faced: an introduction or a write-up to send."
    ),
    (
        "challenge-02",
        Challenges,
        Anyone,
        "What part of your work is harder than it looks from the outside?",
        ["How do you deal with it?", "Who understands it best?"],
        "A hidden difficulty: someone who has been there, to introduce."
    ),
    (
        "challenge-03",
        Challenges,
        Anyone,
        "What keeps you up at night about your work?",
        ["How long has it been like that?", "What would change it?"],
        "A worry someone could ease: advice, a tool, or a person to talk to."
    ),
    (
        "challenge-04",
        Challenges,
        Anyone,
        "What is the most exciting challenge you are facing this year?",
        ["What would it mean to get it right?", "Who else is working on it?"],
        "A challenge to follow: a check-in when they are through it."
    ),
    (
        "challenge-05",
        Challenges,
        Anyone,
        "Where do things slow down most in your work?",
        ["Why do you think that is?", "What have you tried to speed it up?"],
        "A bottleneck you know a tool or a person for."
    ),
    (
        "challenge-06",
        Challenges,
        Anyone,
        "What was a recent setback, and how did you handle it?",
        ["What did you learn from it?", "What would you do differently next time?"],
        "What would have helped: something to send before it happens again."
    ),
    (
        "challenge-07",
        Challenges,
        Anyone,
        "What is changing in your field that you are still figuring out?",
        ["How are you keeping up?", "What worries you about it, and what excites you?"],
        "A change they are tracking: an article or a talk to send."
    ),
    (
        "challenge-08",
        Challenges,
        Anyone,
        "What would you fix first if you had a free month?",
        ["Why that one?", "What stops you from fixing it now?"],
        "A fix they want: a tool, a collaborator, or a conversation to set up."
    ),
    (
        "challenge-09",
        Challenges,
        Anyone,
        "What question in your work has no good answer yet?",
        ["What is the best answer so far?", "Who is closest to solving it?"],
        "An open question: research or people you could point them to."
    ),
    (
        "challenge-10",
        Challenges,
        Anyone,
        "What part of your job drains you, and what part gives you energy?",
        ["How do you keep the balance?", "What would you trade away if you could?"],
        "What energizes them: more of it you could bring their way."
    ),
    (
        "challenge-t1",
        Challenges,
        TopicExpert,
        "What is the hardest thing about {topic} that nobody warns you about?",
        ["How did you learn it?", "How would you teach it to someone new?"],
        "A hard-won lesson: an invitation to share it with your team."
    ),
    (
        "challenge-t2",
        Challenges,
        Topic,
        "What is the most exciting thing happening in {topic} right now?",
        ["Why does it matter to you?", "Who is doing the best work on it?"],
        "A person or project they admire: an introduction or a link to send."
    ),
    (
        "challenge-t3",
        Challenges,
        TopicLearner,
        "What has been the hardest part of getting into {topic} so far?",
        ["What have you tried?", "What would make it click?"],
        "Where they are stuck: a resource or a person who could unblock them."
    ),
    // Their advice.
    (
        "advice-01",
        Advice,
        Anyone,
        "What advice would you give someone starting out in your field today?",
        ["What did you learn the hard way?", "What would you skip?"],
        "Advice to pass on, or a newcomer you know whom they could help."
    ),
    (
        "advice-02",
        Advice,
        Anyone,
        "What is the best piece of advice you have ever been given?",
        ["Who gave it to you?", "When did you last use it?"],
        "The people who shaped them: a mentor worth meeting, or a way to pay it forward."
    ),
    (
        "advice-03",
        Advice,
        Anyone,
        "What book, talk or article changed how you work?",
        ["What did it change?", "Who else should read it?"],
        "A title to read and talk about later, and one of yours to send back."
    ),
    (
        "advice-04",
        Advice,
        Anyone,
        "What do you know now that you wish you had known five years ago?",
        ["How did you find it out?", "What would you tell your past self to do differently?"],
        "A lesson worth writing down: ask whether you may share it."
    ),
    (
        "advice-05",
        Advice,
        Anyone,
        "How do you keep learning in a busy job?",
        ["Which habits stuck?", "Which sources do you trust most?"],
        "Their favourite sources: swap lists afterwards."
    ),
    (
        "advice-06",
        Advice,
        Anyone,
        "What habit makes you better at your work?",
        ["How did you start it?", "What makes it stick?"],
        "A habit to try and tell them how it went."
    ),
    (
        "advice-07",
        Advice,
        Anyone,
        "How do you decide which opportunities to say yes to?",
        ["What was a good no?", "What do you wish you had said yes to?"],
        "The opportunities they want: one you could pass on."
    ),
    (
        "advice-08",
        Advice,
        Anyone,
        "What would you tell a team about to make a mistake you once made?",
        ["How would you spot it early?", "What would you do instead?"],
        "A team you know that needs this advice: an introduction."
    ),
    (
        "advice-09",
        Advice,
        Anyone,
        "Which skill has paid off most for you, and how did you build it?",
        ["How long did it take?", "How would you build it today?"],
        "How they learn: a resource for the skill to send their way."
    ),
    (
        "advice-10",
        Advice,
        Anyone,
        "How do you get unstuck when a problem will not move?",
        ["Whom do you talk to?", "What unstuck you most recently?"],
        "A way of working worth trying: tell them when it worked for you."
    ),
    (
        "advice-t1",
        Advice,
        TopicExpert,
        "What would you tell someone just getting started with {topic}?",
        ["Which resources would you point them to?", "What mistakes should they expect to make?"],
        "Resources they recommend: ask for the list, and send them yours."
    ),
    (
        "advice-t2",
        Advice,
        TopicExpert,
        "If you had to learn {topic} again from scratch, how would you go about it?",
        ["What would you skip?", "What would you spend more time on?"],
        "A learning path: a resource to send, or a learner you know to introduce."
    ),
    (
        "advice-t3",
        Advice,
        Topic,
        "What is the most useful thing you have learned about {topic} in the last year?",
        ["Where did you learn it?", "How has it changed what you do?"],
        "A source or practice worth sharing with your team."
    ),
    // Who else I should meet.
    (
        "meet-01",
        WhoToMeet,
        Anyone,
        "Who is someone here you think I should meet?",
        ["What would we talk about?", "How do you know them?"],
        "A name: ask whether they would introduce you."
    ),
    (
        "meet-02",
        WhoToMeet,
        Anyone,
        "Who has influenced your thinking most lately?",
        ["What did they change in how you see things?", "Where can I find their work?"],
        "A person or writer to look up, or an introduction to ask for."
    ),
    (
        "meet-03",
        WhoToMeet,
        Anyone,
        "Whose work do you admire in your field?",
        ["What makes it stand out?", "How did you come across it?"],
        "People they admire: one you know and could introduce."
    ),
    (
        "meet-04",
        WhoToMeet,
        Anyone,
        "Whom do you go to when you are stuck?",
        ["What makes them good to ask?", "How did you meet them?"],
        "Their circle: a person you both could learn from."
    ),
    (
        "meet-05",
        WhoToMeet,
        Anyone,
        "What kind of people are you hoping to meet here?",
        ["What would you ask them?", "Who have you met so far who comes close?"],
        "Someone you know who fits: an introduction to offer."
    ),
    (
        "meet-06",
        WhoToMeet,
        Anyone,
        "Which communities or groups have helped you most?",
        ["What do you get from them?", "How could a newcomer join?"],
        "A group to join together, or one you could invite them to."
    ),
    (
        "meet-07",
        WhoToMeet,
        Anyone,
        "Who is doing work right now that more people should know about?",
        ["What are they working on?", "How could people support it?"],
        "Work to share: a name to pass on or an introduction to make."
    ),
    (
        "meet-08",
        WhoToMeet,
        Anyone,
        "Who would you love to work with one day?",
        ["What would you build together?", "What is standing in the way?"],
        "A connection you might be able to make."
    ),
    (
        "meet-t1",
        WhoToMeet,
        Topic,
        "Who should I follow or talk to if I want to understand {topic} better?",
        ["What do they do well?", "Where do they share their work?"],
        "Names to look up, or an introduction they could make."
    ),
    (
        "meet-t2",
        WhoToMeet,
        TopicLearner,
        "Who has helped you most as you learn {topic}?",
        ["What made their help work for you?", "Whom else are you hoping to meet about it?"],
        "Someone you know who could help them learn it: an introduction to offer."
    ),
    // How I could help: the reason to follow up.
    (
        "help-01",
        HowToHelp,
        Anyone,
        "What could someone here do that would make a real difference for you?",
        ["What would that change?", "Whom have you asked so far?"],
        "A concrete need: an article, an introduction or a meeting you could offer."
    ),
    (
        "help-02",
        HowToHelp,
        Anyone,
        "What are you looking for right now: people, ideas, a new role?",
        ["What would the ideal look like?", "What have you found so far?"],
        "A need you can meet: a lead, a name or a next meeting."
    ),
    (
        "help-03",
        HowToHelp,
        Anyone,
        "What is one thing that would make your next month easier?",
        ["What is in the way?", "Who could help with it?"],
        "Something small you could do this week."
    ),
    (
        "help-04",
        HowToHelp,
        Anyone,
        "What would be useful for me to send you after this conversation?",
        ["What format works best for you?", "When would be a good time to pick this up again?"],
        "The promise itself: what to send, and by when."
    ),
    (
        "help-05",
        HowToHelp,
        Anyone,
        "How can I keep up with your work after {event}?",
        ["Where do you share what you are doing?", "What would you like to hear back about?"],
        "Where to follow up, and a reason to: the next meeting."
    ),
    (
        "help-06",
        HowToHelp,
        Anyone,
        "What project would you love a second pair of eyes on?",
        ["What kind of feedback would help most?", "When do you need it by?"],
        "A review you could offer, with a date."
    ),
    (
        "help-07",
        HowToHelp,
        Anyone,
        "Which introduction would help you most right now?",
        ["What would you want to ask them?", "How would you like to be introduced?"],
        "A person you know: an introduction to make."
    ),
    (
        "help-08",
        HowToHelp,
        Anyone,
        "What are you hoping to learn more about in the next few months?",
        ["What would help you learn it?", "How will you know you have got it?"],
        "A learning goal: a resource to send, and a check-in later."
    ),
    (
        "help-t1",
        HowToHelp,
        TopicLearner,
        "What would help you most as you learn {topic}?",
        ["What have you already tried?", "How do you like to learn?"],
        "A resource or a person for {topic} you could send their way."
    ),
    (
        "help-t2",
        HowToHelp,
        TopicExpert,
        "What are you working on in {topic} that could use more hands or ideas?",
        ["What kind of help would move it forward?", "Who else is involved?"],
        "A way to contribute: a meeting to set up, or someone to introduce."
    ),
];

/// The built-in prompt with this id.
pub fn find(id: &str) -> Option<&'static Builtin> {
    LIBRARY.iter().find(|p| p.id == id)
}

/// Follow-ups and a listen-for hint for an organizer's topic prompt that brings none of its own.
pub const TOPIC_FOLLOW_UPS: [&str; 3] = [
    "What got you started with {topic}?",
    "What would you like to get better at in {topic}?",
    "Who else here should I talk to about {topic}?",
];
pub const TOPIC_LISTEN_FOR: &str =
    "Something about {topic} worth sending them, or someone to introduce them to.";

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::super::{Stage, check_question, check_text, placeholders};
    use super::*;

    #[test]
    fn the_library_has_at_least_80_prompts_with_unique_ids_over_the_whole_arc() {
        assert!(LIBRARY.len() >= 80, "{} prompts", LIBRARY.len());
        let ids: HashSet<&str> = LIBRARY.iter().map(|p| p.id).collect();
        assert_eq!(ids.len(), LIBRARY.len(), "ids are unique");
        for stage in Stage::ARC {
            let general =
                LIBRARY.iter().filter(|p| p.stage == stage && p.audience == Audience::Anyone);
            assert!(general.count() >= 8, "{stage:?} has at least 8 general prompts");
        }
    }

    #[test]
    fn every_built_in_is_an_open_question_that_fills_completely() {
        for prompt in LIBRARY {
            let at = |what: &str| format!("{} ({what})", prompt.id);
            check_question(prompt.text).unwrap_or_else(|e| panic!("{}: {e}", at(prompt.text)));
            assert!((2..=3).contains(&prompt.follow_ups.len()), "{}", at("follow-ups"));
            for follow_up in prompt.follow_ups {
                check_question(follow_up).unwrap_or_else(|e| panic!("{}: {e}", at(follow_up)));
            }
            assert!(!prompt.listen_for.is_empty(), "{}", at("listen for"));
            check_text(prompt.listen_for).unwrap_or_else(|e| panic!("{}: {e}", at("listen for")));
        }
        for text in TOPIC_FOLLOW_UPS {
            check_question(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
        check_text(TOPIC_LISTEN_FOR).unwrap();
    }

    #[test]
    fn a_prompts_placeholders_match_its_audience() {
        for prompt in LIBRARY {
            let mut used: Vec<&str> = placeholders(prompt.text).unwrap();
            for text in prompt.follow_ups.iter().chain([&prompt.listen_for]) {
                used.extend(placeholders(text).unwrap());
            }
            let needs = |p: &str| used.contains(&p);
            let (topic, company, headline) = (needs("topic"), needs("company"), needs("headline"));
            let fits = match prompt.audience {
                Audience::Anyone => !topic && !company && !headline,
                Audience::Topic | Audience::TopicExpert | Audience::TopicLearner => {
                    placeholders(prompt.text).unwrap().contains(&"topic") && !company && !headline
                }
                Audience::Company => needs("company") && !topic && !headline,
                Audience::Headline => needs("headline") && !topic && !company,
            };
            assert!(fits, "{} does not fit its audience {:?}", prompt.id, prompt.audience);
        }
    }
}
