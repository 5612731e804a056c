"""BatchedCountVectorsFeaturizer gives every message exactly the features Rasa's CountVectorsFeaturizer gives.

Both featurizers are trained on the same tokenized data with the options config.yml uses (words; character
n-grams with accents folded) and with an out-of-vocabulary token; then training data (texts, intents, action
names, a message without text) and new messages are featurized by each, and every feature matrix is compared.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix

from components.batched_count_vectors import BatchedCountVectorsFeaturizer, split_rows

WORDS: Dict[str, Any] = {}
CHARS: Dict[str, Any] = {"analyzer": "char_wb", "min_ngram": 2, "max_ngram": 5, "strip_accents": "unicode"}
WORDS_OOV: Dict[str, Any] = {"OOV_token": "oov", "OOV_words": ["hello"]}

TEXTS = [("hello there 123", "greet"), ("γεια σου, τι κάνεις;", "greet"), ("labas, kaip sekasi?", "greet"),
         ("thanks a lot", "thanks"), ("merci beaucoup !", "thanks"), ("dank je wel", "thanks"),
         ("what are the warning signs", "ask_warning_signs"), ("quali sono i segnali", "ask_warning_signs")]
NEW_TEXTS = ["hello 42 unknownword", "Πώς είσαι", "", "ačiū", "signs signs signs", "🙂"]


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "featurizer")  # same node name: features carry the same origin


def _training_data() -> TrainingData:
    messages = [Message(data={"text": t, "intent": i}) for t, i in TEXTS]
    messages += [Message(data={"intent": "greet"}), Message(data={"action_name": "utter_greet"}),
                 Message(data={"action_name": "action_listen"}), Message(data={"text": "", "intent": "greet"})]
    return TrainingData(messages)


def _tokenize(tokenizer: WhitespaceTokenizer, data: TrainingData) -> TrainingData:
    tokenizer.process_training_data(data)
    return data


def _features(message: Message) -> List[Tuple[str, str, str, Tuple[int, int], List[Any]]]:
    return [(f.type, f.attribute, f.origin, f.features.shape, csr_matrix(f.features).toarray().tolist())
            for f in message.features]


def _pair(storage: LocalModelStorage, options: Dict[str, Any], data: TrainingData):
    config = {**CountVectorsFeaturizer.get_default_config(), **options}
    rasa = CountVectorsFeaturizer.create(config, storage, Resource("rasa"), _context())
    batched = BatchedCountVectorsFeaturizer.create(config, storage, Resource("batched"), _context())
    rasa.train(data)
    batched.train(data)
    return rasa, batched


@pytest.mark.parametrize("options", [WORDS, CHARS, WORDS_OOV], ids=["words", "chars", "words-oov"])
def test_training_data_features_identical(storage, tokenizer, options):
    data = _tokenize(tokenizer, _training_data())
    rasa, batched = _pair(storage, options, data)
    by_rasa, by_batched = copy.deepcopy(data), copy.deepcopy(data)
    rasa.process_training_data(by_rasa)
    batched.process_training_data(by_batched)
    assert sum(len(m.features) for m in by_batched.training_examples) >= 2 * len(TEXTS)  # something was featurized
    for expected, got in zip(by_rasa.training_examples, by_batched.training_examples, strict=True):
        assert _features(got) == _features(expected)


@pytest.mark.parametrize("options", [WORDS, CHARS, WORDS_OOV], ids=["words", "chars", "words-oov"])
def test_new_messages_identical_alone_and_in_a_batch(storage, tokenizer, options):
    rasa, batched = _pair(storage, options, _tokenize(tokenizer, _training_data()))
    messages = [Message(data={"text": text}) for text in NEW_TEXTS]
    tokenizer.process(messages)
    expected = copy.deepcopy(messages)
    rasa.process(expected)
    in_batch = batched.process(copy.deepcopy(messages))
    one_by_one = [batched.process([copy.deepcopy(message)])[0] for message in messages]
    for want, got_batch, got_single in zip(expected, in_batch, one_by_one, strict=True):
        assert _features(got_batch) == _features(want) == _features(got_single)


@pytest.mark.parametrize("options", [WORDS, CHARS], ids=["words", "chars"])
def test_sentence_only_option_drops_the_text_sequence_features_and_keeps_the_rest(storage, tokenizer, options):
    data = _tokenize(tokenizer, _training_data())
    rasa, _ = _pair(storage, options, data)
    config = {**BatchedCountVectorsFeaturizer.get_default_config(), **options, "sequence_features": False}
    sentence_only = BatchedCountVectorsFeaturizer.create(config, storage, Resource("sentence-only"), _context())
    sentence_only.train(data)
    new = [Message(data={"text": text}) for text in NEW_TEXTS]
    tokenizer.process(new)
    by_rasa, by_option = copy.deepcopy(data), copy.deepcopy(data)
    rasa.process_training_data(by_rasa)
    sentence_only.process_training_data(by_option)
    pairs = list(zip(by_rasa.training_examples + rasa.process(copy.deepcopy(new)),
                     by_option.training_examples + sentence_only.process(copy.deepcopy(new)), strict=True))
    dropped = 0
    for expected, got in pairs:
        kept = [f for f in _features(expected) if not (f[0] == "sequence" and f[1] == "text")]
        dropped += len(_features(expected)) - len(kept)
        assert _features(got) == kept
    assert dropped >= len(TEXTS)  # every text had sequence features in Rasa's featurizer


def test_persisted_and_loaded_featurizer_gives_the_same_features(storage, tokenizer):
    data = _tokenize(tokenizer, _training_data())
    _, batched = _pair(storage, CHARS, data)
    config = {**CountVectorsFeaturizer.get_default_config(), **CHARS}
    loaded = BatchedCountVectorsFeaturizer.load(config, storage, Resource("batched"), _context())
    assert isinstance(loaded, BatchedCountVectorsFeaturizer)
    messages = [Message(data={"text": text}) for text in NEW_TEXTS]
    tokenizer.process(messages)
    assert [_features(m) for m in loaded.process(copy.deepcopy(messages))] == \
        [_features(m) for m in batched.process(copy.deepcopy(messages))]


def test_untrained_featurizer_leaves_messages_alone(storage, tokenizer):
    featurizer = BatchedCountVectorsFeaturizer.create(CountVectorsFeaturizer.get_default_config(), storage,
                                                      Resource("empty"), _context())
    messages = [Message(data={"text": "hello there"})]
    tokenizer.process(messages)
    assert not featurizer.process(messages)[0].features


def test_split_rows_keeps_order_and_sizes():
    matrix = csr_matrix(np.arange(12).reshape(6, 2))
    blocks = split_rows(matrix, [1, 0, 3, 2])
    assert [b.shape[0] for b in blocks] == [1, 0, 3, 2]
    assert np.vstack([b.toarray() for b in blocks if b.shape[0]]).tolist() == matrix.toarray().tolist()
