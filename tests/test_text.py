"""The one place for answer text: normalization, compare's correctness rule, and a question's form."""

from __future__ import annotations

import pytest

from ragtune.text import (
    QuestionForm,
    answer_correct,
    contains_answer,
    is_decision,
    normalize_answer,
    question_form,
    token_f1,
)


def test_normalization_follows_squad_and_treats_punctuation_as_space() -> None:
    assert normalize_answer("The  Quick, brown FOX!") == "quick brown fox"
    assert normalize_answer("an apple—a day") == "apple day"
    assert normalize_answer("e-mail") == normalize_answer("e mail")


def test_correct_is_whole_words_and_a_decision_must_open_the_answer() -> None:
    assert answer_correct("The capital is Paris.", ["paris"])
    assert not answer_correct("14 engines", ["4"])  # not inside another number
    assert answer_correct("Yes: the drug lowered blood pressure [1]", ["yes"])
    assert answer_correct("no, it did not", ["No"])
    # "yes" inside an answer that says no is not a yes; a decision gold needs the decision first.
    assert not answer_correct("No, the trial says yes only for adults", ["yes"])
    assert not answer_correct("It is not known whether maybe", ["maybe"])
    assert not answer_correct("Yes", [""])


def test_a_question_is_a_decision_when_any_gold_is_one() -> None:
    assert is_decision(["Yes."]) and is_decision(["maybe", "perhaps"])
    assert not is_decision(["No way"]) and not is_decision(["Paris"]) and not is_decision([])


def test_contains_answer_is_the_same_whole_word_rule() -> None:
    assert contains_answer("It opened in 1904.", "1904")
    assert not contains_answer("It opened in 19045.", "1904")
    assert token_f1("Eiffel Tower in Paris", ["Eiffel Tower"]) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("question", "form"),
    [
        ("Were Scott Derrickson and Ed Wood of the same nationality?", QuestionForm("polar")),
        ("Do mitochondria play a role in remodelling lace plant leaves?", QuestionForm("polar")),
        ("Laparoscopic surgery in the elderly: is it safe?", QuestionForm("polar")),
        ("In adults with asthma, does the inhaler reduce attacks?", QuestionForm("polar")),
        ("Aripiprazole: a new risk factor for pathological gambling?", QuestionForm("polar")),
        ("Can I return a Brindle SP7 bought online?", QuestionForm("polar")),
        ("Is there a link between smoking and asthma?", QuestionForm("polar")),  # "between" is no choice here
        (
            "Which writer was from England, Henry Roth or Robert Erskine Childers?",
            QuestionForm("choice", ("Henry Roth", "Robert Erskine Childers")),
        ),
        (
            "Which band, Letters to Cleo or Screaming Trees, had more members?",
            QuestionForm("choice", ("Letters to Cleo", "Screaming Trees")),
        ),
        (
            "Who is older, Annie Morton or Terry Richardson?",
            QuestionForm("choice", ("Annie Morton", "Terry Richardson")),
        ),
        (
            "Which of the Pro plan and the Basic plan costs more?",
            QuestionForm("choice", ("the Pro plan", "the Basic plan")),
        ),
        # A yes/no opener that asks which of two (COVID-QA's "single or double-stranded", a user's "signal or
        # thread"), and the look-alikes that stay yes/no: a range, a negation, options as a claim's subject.
        (
            "Is signal or thread the default timeout method when SIGALRM is available?",
            QuestionForm("choice", ("signal", "thread")),
        ),
        ("Is the Pro plan or the Basic plan cheaper?", QuestionForm("choice", ("the Pro plan", "the Basic plan"))),
        ("Is Rotavirus single or double-stranded?", QuestionForm("choice", ("single", "double-stranded"))),
        (
            "Is a pre-existing immune response an advantage or a disadvantage?",
            QuestionForm("choice", ("an advantage", "a disadvantage")),
        ),
        ("Is aneurysm repair justified for patients aged 80 or older?", QuestionForm("polar")),
        ("Is the new pump safe or not?", QuestionForm("polar")),
        ("Does surgery or radiation therapy impact survival?", QuestionForm("polar")),
        ("Are the recommendations for withholding or withdrawing treatments applicable?", QuestionForm("polar")),
        ("What government position was held by the woman who portrayed Corliss Archer?", QuestionForm("open")),
        ("When was the Copper bridge built?", QuestionForm("open")),
        ("Hayden is from Canada, but where does Buck-Tick hail from?", QuestionForm("open")),
        ("What series, told in first person, has companion books?", QuestionForm("open")),  # a wh-question
        ("The manga, written by someone, is drawn by whom?", QuestionForm("open")),
        ("Price of the Pro plan", QuestionForm("open")),
    ],
)
def test_question_form_from_wording(question: str, form: QuestionForm) -> None:
    assert question_form(question) == form


def test_an_answer_copied_from_a_list_item_drops_its_marker() -> None:
    from ragtune.text import without_list_marker

    # A new user's README corpus: the small reader copied the item whole, number and all.
    assert without_list_marker("2. The PYTEST_TIMEOUT variable sets a global timeout") == (
        "The PYTEST_TIMEOUT variable sets a global timeout"
    )
    assert without_list_marker("- from PyPI") == "from PyPI" and without_list_marker("3) the third") == "the third"
    for kept in ("2.", "2.5 metres", "-5 degrees", "12 months"):  # a number is an answer, not a marker
        assert without_list_marker(kept) == kept
