"""LinearIntentClassifier: normalised sparse features, a linear SVM, softmax confidences.

Features come from Rasa's real WhitespaceTokenizer and two CountVectorsFeaturizers (words and character
n-grams, as in config.yml); the classifier is trained, persisted and loaded through Rasa's real
``LocalModelStorage``.
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix

from components.linear_intent_classifier import (
    LinearIntentClassifier,
    sentence_matrix,
    softmax,
    sparse_sentence_features,
)

TRAINING = [
    ("hello there", "greet"), ("hi, how are you", "greet"), ("γεια σου", "greet"), ("labas", "greet"),
    ("ciao a tutti", "greet"), ("bonjour", "greet"), ("hallo daar", "greet"),
    ("thanks a lot", "thanks"), ("ευχαριστώ πολύ", "thanks"), ("merci beaucoup", "thanks"),
    ("grazie mille", "thanks"), ("dank je wel", "thanks"), ("ačiū labai", "thanks"),
    ("what are the warning signs of grooming", "ask_warning_signs"),
    ("how do i know if someone online is grooming me", "ask_warning_signs"),
    ("quali sono i segnali di adescamento", "ask_warning_signs"),
    ("quels sont les signes du grooming", "ask_warning_signs"),
    ("wat zijn de waarschuwingssignalen", "ask_warning_signs"),
]


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


class Pipeline:
    """Tokenizer and featurizers trained on ``TRAINING``, then the classifier under test."""

    def __init__(self, storage: LocalModelStorage) -> None:
        self.tokenizer = WhitespaceTokenizer.create(WhitespaceTokenizer.get_default_config(), storage,
                                                    Resource("tok"), _context())
        word_config = CountVectorsFeaturizer.get_default_config()
        char_config = {**word_config, "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5,
                       "strip_accents": "unicode"}
        self.featurizers = [CountVectorsFeaturizer.create(config, storage, Resource(name), _context())
                            for name, config in (("words", word_config), ("chars", char_config))]
        data = TrainingData([Message(data={"text": t, "intent": i}) for t, i in TRAINING])
        self.tokenizer.process_training_data(data)
        for featurizer in self.featurizers:
            featurizer.train(data)
            featurizer.process_training_data(data)
        self.data = data

    def featurize(self, texts: List[str]) -> List[Message]:
        messages = [Message(data={"text": text}) for text in texts]
        self.tokenizer.process(messages)
        for featurizer in self.featurizers:
            featurizer.process(messages)
        return messages


@pytest.fixture()
def trained(storage: LocalModelStorage) -> Tuple[Pipeline, LinearIntentClassifier]:
    pipeline = Pipeline(storage)
    classifier = LinearIntentClassifier.create(LinearIntentClassifier.get_default_config(), storage,
                                               Resource("svm"), _context())
    classifier.train(pipeline.data)
    return pipeline, classifier


def test_each_featurizer_block_is_scaled_to_unit_length(storage: LocalModelStorage) -> None:
    pipeline = Pipeline(storage)
    short, long = pipeline.featurize(["hello", "hello hello hello there, how are you, hello"])
    matrix = sentence_matrix([short, long])
    words = pipeline.featurizers[0]
    word_columns = len(words.vectorizers["text"].vocabulary_)
    for row in range(2):
        assert np.linalg.norm(matrix[row, :word_columns].toarray()) == pytest.approx(1.0)
        assert np.linalg.norm(matrix[row, word_columns:].toarray()) == pytest.approx(1.0)


def test_a_message_without_sparse_sentence_features_is_refused() -> None:
    with pytest.raises(ValueError, match="sparse sentence features"):
        sentence_matrix([Message(data={"text": "hello"})])


def test_softmax_rows_sum_to_one_and_temperature_sharpens() -> None:
    scores = np.array([[1.0, 0.0, -1.0], [1000.0, 999.0, 0.0]])  # a large score must not overflow
    for temperature in (1.0, 5.0):
        assert softmax(scores, temperature).sum(axis=1) == pytest.approx([1.0, 1.0])
    assert softmax(scores, 5.0)[0, 0] > softmax(scores, 1.0)[0, 0]


@pytest.mark.parametrize("text, intent", [
    ("hello", "greet"), ("thanks!", "thanks"), ("ευχαριστω", "thanks"), ("bonjour a tous", "greet"),
    ("what are the signs", "ask_warning_signs"), ("segnali di adescamento?", "ask_warning_signs"),
])
def test_known_phrasings_get_their_intent_with_a_sorted_ranking(trained, text: str, intent: str) -> None:
    pipeline, classifier = trained
    message = classifier.process(pipeline.featurize([text]))[0]
    ranking = message.get("intent_ranking")
    assert message.get("intent")["name"] == intent
    assert message.get("intent") == ranking[0]
    confidences = [r["confidence"] for r in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0)  # three intents, all within the ranking length


def test_persisted_classifier_loads_and_answers_the_same(trained, storage: LocalModelStorage) -> None:
    pipeline, classifier = trained
    texts = ["hello", "merci", "warning signs"]
    before = [m.get("intent") for m in classifier.process(pipeline.featurize(texts))]
    loaded = LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), storage, Resource("svm"),
                                         _context())
    after = [m.get("intent") for m in loaded.process(pipeline.featurize(texts))]
    assert after == before


def test_a_model_without_its_classifier_leaves_messages_without_an_intent(storage: LocalModelStorage) -> None:
    pipeline = Pipeline(storage)
    loaded = LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), storage,
                                         Resource("never-trained"), _context())
    message = loaded.process(pipeline.featurize(["hello"]))[0]
    assert message.get("intent") == {"name": None, "confidence": 0.0}
    assert fallback(message).get("intent")["name"] == "nlu_fallback"  # the bot asks to rephrase


def fallback(message: Message) -> Message:
    """Rasa's FallbackClassifier (as configured in config.yml) run on one classified message."""
    classifier = FallbackClassifier(FallbackClassifier.get_default_config() | {"threshold": 0.4})
    return classifier.process([message])[0]


@pytest.mark.parametrize("text", ["?", "!!", "👍", "🙂🙂🙂", "..."])
def test_punctuation_or_emoji_alone_gets_no_intent_and_the_rephrase_reply(trained, text: str) -> None:
    """All-zero features would be scored by the intercepts alone ("?" → affirm at 0.403 with the real model,
    answering "Red flag" in the quiz); they get no intent, and Rasa's FallbackClassifier then works."""
    pipeline, classifier = trained
    message = pipeline.featurize([text])[0]
    assert all(block.nnz == 0 for block in sparse_sentence_features(message))
    classifier.process([message])
    assert message.get("intent") == {"name": None, "confidence": 0.0} and message.get("intent_ranking") == []
    assert fallback(message).get("intent")["name"] == "nlu_fallback"


def test_ranking_length_cuts_the_ranking(storage: LocalModelStorage) -> None:
    pipeline = Pipeline(storage)
    classifier = LinearIntentClassifier.create({"ranking_length": 2}, storage, Resource("svm2"), _context())
    classifier.train(pipeline.data)
    assert len(classifier.process(pipeline.featurize(["hello"]))[0].get("intent_ranking")) == 2


def test_two_intents_still_give_a_full_ranking(storage: LocalModelStorage) -> None:
    pipeline = Pipeline(storage)
    two = TrainingData([m for m in pipeline.data.intent_examples if m.get("intent") in ("greet", "thanks")])
    classifier = LinearIntentClassifier.create({}, storage, Resource("svm3"), _context())
    classifier.train(two)
    message = classifier.process(pipeline.featurize(["thanks a lot"]))[0]
    assert message.get("intent")["name"] == "thanks"
    assert {r["name"] for r in message.get("intent_ranking")} == {"greet", "thanks"}


def test_a_message_without_features_is_left_without_an_intent(trained) -> None:
    pipeline, classifier = trained
    bare, featurized = Message(data={"text": ""}), pipeline.featurize(["hello"])[0]
    classifier.process([bare, featurized])
    assert bare.get("intent") is None and featurized.get("intent")["name"] == "greet"


def test_rows_are_aligned_with_messages(storage: LocalModelStorage) -> None:
    pipeline = Pipeline(storage)
    messages = pipeline.featurize(["hello", "merci beaucoup", "hello"])
    matrix = sentence_matrix(messages)
    assert isinstance(matrix, csr_matrix) and matrix.shape[0] == 3
    assert (matrix[0] != matrix[2]).nnz == 0 and (matrix[0] != matrix[1]).nnz > 0
