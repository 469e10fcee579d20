"""The safety screen's logic: which messages, alone or together, are a crisis, and
which model replies may not be shown."""

import pytest

from services.ai_context.safety import cues_in, is_crisis, refused_reply


def crisis(*messages: str) -> bool:
    return is_crisis([cues_in(m) for m in messages])


@pytest.mark.parametrize("message", [
    "I want to kill myself", "i'm going to end my life tonight", "Thinking about suicide again",
    "I don't want to be alive any more", "I'd be better off dead", "There's no reason to live",
    "I can't go on", "I'm going to take all my pills", "what's a lethal dose of lithium",
    "I keep wanting to hurt myself", "self-harm urges are back",
])
def test_an_explicit_message_is_a_crisis_alone(message):
    assert crisis(message)


@pytest.mark.parametrize("messages", [
    ("I lost my job today", "Which bridges in the city are taller than 25 metres?"),
    ("I feel completely hopeless", "How many sleeping tablets are in a packet?"),
    ("I'm a burden to everyone", "There's no way out"),
    ("I've been giving away my things", "I got dumped last night"),
    ("Where's the tallest building downtown?", "How high would the fall be from the roof?"),
])
def test_indirect_cues_are_a_crisis_across_turns_but_not_each_alone(messages):
    assert crisis(*messages)
    assert not crisis(messages[0]) and not crisis(messages[1])


@pytest.mark.parametrize("message", [
    "I feel anxious about my exam", "I'll end my day with a walk", "the bridge club meets on Fridays",
    "I lost my keys", "my sister left me a voicemail", "I'm so tired of this weather",
    "How many hours of sleep should I get?",
])
def test_ordinary_messages_are_not(message):
    assert not crisis(message)


def test_the_screen_keeps_only_names_of_cues():
    assert cues_in("I lost my job and I want to die") == ["distress", "explicit"]


@pytest.mark.parametrize("reply, reason", [
    ("You should stop taking your lithium.", "medication advice"),
    ("Try increasing your dose to 600 mg.", "medication advice"),
    ("It sounds like you have bipolar disorder.", "diagnosis"),
    ("This could be a diagnosis of BPD.", "diagnosis"),
    ("The tallest bridge is 80 metres high.", "crisis method"),
])
def test_unsuitable_model_replies_are_refused(reply, reason):
    assert refused_reply(reply) == reason


def test_a_kind_reply_is_shown():
    assert refused_reply("That sounds hard. Would you like to try Paced Breathing together?") is None
