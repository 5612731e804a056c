"""GreekLatinFoldedFeaturizer: Greek script and the Greeklish conventions fold to one spelling.

The fold is checked word by word (pairs a Greek reader would call the same word), then the featurizer is
trained on Greek-script sentences and must give a Greeklish message character n-grams it knows, where
Rasa's own character featurizer, trained on the same data, gives it none or few.
"""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.batched_count_vectors import BatchedCountVectorsFeaturizer
from components.greek_latin_folding import GreekLatinFoldedFeaturizer, fold_word, is_greek, strip_accents

CHARS: Dict[str, Any] = {**CountVectorsFeaturizer.get_default_config(),
                         "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5}

# Each group: one word as Greek script and as Greeklish in the common conventions.
SAME_WORD = [
    ["θέλω", "thelw", "thelo", "8elw", "8elo", "ΘΕΛΩ"],
    ["ξέρω", "kserw", "ksero", "3erw"],
    ["καλημέρα", "kalhmera", "kalimera", "kalhmέra"],
    ["υπάρχει", "yparxei", "iparxi", "yparxi"],
    ["μπορώ", "mporw", "boro", "mporo"],
    ["ντρέπομαι", "ntrepomai", "drepome", "ντρεπομαι"],
    ["χρειάζομαι", "xreiazomai", "chreiazomai", "xriazome"],
    ["βοήθεια", "voitheia", "voh8eia", "voithia"],
    ["ψυχολόγος", "psyxologos", "psixologos"],
    ["γιατί", "giati", "giat\u00ed"],
]


@pytest.mark.parametrize("spellings", SAME_WORD, ids=[group[1] for group in SAME_WORD])
def test_spellings_of_one_word_fold_together(spellings: List[str]):
    assert len({fold_word(word.lower()) for word in spellings}) == 1


@pytest.mark.parametrize("word", ["θέλω", "φίλος", "σχολείο", "ξανά", "ψέματα", "ωραία"])
def test_greek_script_becomes_latin_letters(word: str):
    folded = fold_word(word)
    assert folded and not is_greek(folded) and folded.isascii()


@pytest.mark.parametrize("word", ["2024", "112", "__number__", "", "🙂", "?"])
def test_numbers_and_symbols_stay_as_they_are(word: str):
    assert fold_word(word) == word


def test_different_words_stay_apart():
    words = ["θέλω", "ξέρω", "μπορώ", "βοήθεια", "φίλος", "help", "hulp", "aiuto", "pagalba", "aide"]
    assert len({fold_word(w) for w in words}) == len(words)


def test_accents_of_every_language_are_folded():
    assert strip_accents("πώς ačiū élève perché ïdee") == "πως aciu eleve perche idee"


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "featurizer")


GREEK_TRAINING = [("θέλω να μιλήσω με κάποιον", "ask_helpline"), ("ποια είναι τα σημάδια", "ask_warning_signs"),
                  ("χρειάζομαι βοήθεια", "ask_help"), ("καλημέρα", "greet")]


def _trained(cls, storage: LocalModelStorage, tokenizer: WhitespaceTokenizer, name: str,
             config: Dict[str, Any] = CHARS, training: List = GREEK_TRAINING):
    data = TrainingData([Message(data={"text": t, "intent": i}) for t, i in training])
    tokenizer.process_training_data(data)
    featurizer = cls.create(config, storage, Resource(name), _context())
    featurizer.train(data)
    featurizer.process_training_data(data)  # as Rasa's trainer does, intent names included
    return featurizer


def _sentence_vector(featurizer, tokenizer: WhitespaceTokenizer, text: str) -> np.ndarray:
    message = Message(data={"text": text})
    tokenizer.process([message])
    featurizer.process([message])
    _, sentence = message.get_sparse_features("text")
    return np.asarray(sentence.features.todense()).ravel()


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("greek, greeklish", [("θέλω να μιλήσω με κάποιον", "8elw na milisw me kapoion"),
                                              ("χρειάζομαι βοήθεια", "xreiazomai voh8eia"),
                                              ("καλημέρα", "kalhmera")])
def test_greeklish_message_shares_the_features_of_its_greek_spelling(storage, tokenizer, greek, greeklish):
    folded = _trained(GreekLatinFoldedFeaturizer, storage, tokenizer, "folded")
    plain = _trained(BatchedCountVectorsFeaturizer, storage, tokenizer, "plain")
    folded_similarity = _cosine(_sentence_vector(folded, tokenizer, greek), _sentence_vector(folded, tokenizer, greeklish))
    plain_greeklish = _sentence_vector(plain, tokenizer, greeklish)
    plain_similarity = _cosine(_sentence_vector(plain, tokenizer, greek), plain_greeklish) if plain_greeklish.any() else 0.0
    assert folded_similarity > 0.8
    assert plain_similarity < 0.3


def test_loaded_featurizer_folds_as_the_trained_one(storage, tokenizer):
    trained = _trained(GreekLatinFoldedFeaturizer, storage, tokenizer, "folded")
    loaded = GreekLatinFoldedFeaturizer.load(CHARS, storage, Resource("folded"), _context())
    for text in ["8elw na milisw", "ποια είναι τα σημάδια;", "hello 42"]:
        assert np.array_equal(_sentence_vector(loaded, tokenizer, text), _sentence_vector(trained, tokenizer, text))


def test_intent_labels_are_not_folded(storage, tokenizer):
    featurizer = GreekLatinFoldedFeaturizer.create({**CountVectorsFeaturizer.get_default_config()}, storage,
                                                   Resource("words"), _context())
    assert featurizer._process_tokens(["ask_why", "what"], attribute="intent") == ["ask_why", "what"]
    assert featurizer._process_tokens(["What", "θέλω"]) == ["iat", "thelo"]


WORD_PAIRS: Dict[str, Any] = {**CountVectorsFeaturizer.get_default_config(),
                              "analyzer": "word", "min_ngram": 2, "max_ngram": 2, "sequence_features": False}
PAIR_TRAINING = [("δεν θέλω", "deny"), ("θέλω να μιλήσω με κάποιον", "ask_helpline"), ("tuurlijk niet", "deny"),
                 ("ja tuurlijk", "affirm")]


def _trained_pairs(storage: LocalModelStorage, tokenizer: WhitespaceTokenizer) -> GreekLatinFoldedFeaturizer:
    # Intent names are single words, without pairs: featurizing them must not fail.
    return _trained(GreekLatinFoldedFeaturizer, storage, tokenizer, "pairs", WORD_PAIRS, PAIR_TRAINING)


def test_word_pairs_are_learnt_from_the_text_only(storage, tokenizer):
    featurizer = _trained_pairs(storage, tokenizer)
    assert set(featurizer.vectorizers) <= {"text", "response", "action_text"}
    assert {"tuurlijk niet", "ja tuurlijk", "den thelo"} <= set(featurizer.vectorizers["text"].vocabulary_)


@pytest.mark.parametrize("greek, greeklish", [("δεν θέλω", "den thelw"), ("δε θελω να μιλησω", "de 8elo na milisw")])
def test_greeklish_word_pair_is_the_greek_pair(storage, tokenizer, greek, greeklish):
    featurizer = _trained_pairs(storage, tokenizer)
    greek_vector = _sentence_vector(featurizer, tokenizer, greek)
    assert greek_vector.any()
    assert np.array_equal(greek_vector, _sentence_vector(featurizer, tokenizer, greeklish))


def test_pairs_tell_negation_from_agreement(storage, tokenizer):
    featurizer = _trained_pairs(storage, tokenizer)
    denial, agreement = (_sentence_vector(featurizer, tokenizer, t) for t in ("tuurlijk niet", "ja tuurlijk"))
    assert denial.any() and agreement.any() and not (denial @ agreement)


def test_a_single_word_has_no_pairs_and_no_error(storage, tokenizer):
    assert not _sentence_vector(_trained_pairs(storage, tokenizer), tokenizer, "nee").any()
