"""Rasa's ``CountVectorsFeaturizer``, featurizing many messages with one vectorizer call per attribute.

Rasa's featurizer calls scikit-learn's ``CountVectorizer.transform`` twice per message and attribute
(once for the token sequence, once for the whole sentence). Each call costs far more in set-up than in
counting, so with ~26,000 training examples in six languages the two featurizers spent about 75 s of a
~200 s training run just featurizing the training data. ``transform`` treats every document on its own,
so featurizing all messages in one call and slicing the result into per-message rows gives exactly the
same matrices: this class does that and changes nothing else (vocabulary, options, persistence and the
features each message receives are Rasa's, as ``tests/unit/test_batched_count_vectors.py`` checks).

One option Rasa's featurizer lacks: ``sequence_features: false`` leaves out the per-token (sequence) features
of the message text and keeps the sentence features. Beacon's classifier reads sentence features only, and the
per-token matrices were most of the featurizing time and of what Rasa's training cache stores.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix, csr_matrix


def split_rows(matrix: csr_matrix, lengths: List[int]) -> List[csr_matrix]:
    """Consecutive row blocks of ``matrix``, ``lengths[i]`` rows for the i-th block."""
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    return [matrix[start:end] for start, end in zip(bounds[:-1], bounds[1:], strict=True)]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class BatchedCountVectorsFeaturizer(CountVectorsFeaturizer):
    """``CountVectorsFeaturizer`` with batched featurization; same options, same features.

    ``sequence_features`` (default true, as Rasa): false leaves out the text's per-token features.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Rasa's options, plus ``sequence_features``."""
        return {**CountVectorsFeaturizer.get_default_config(), "sequence_features": True}

    def process(self, messages: List[Message]) -> List[Message]:
        """Set the features of every message as Rasa's featurizer does (without text sequences if so configured)."""
        if self.vectorizers is None:
            return super().process(messages)  # logs Rasa's "no trained CountVectorizer" error
        for attribute in self._attributes:
            if not self.vectorizers.get(attribute):
                continue  # Rasa adds no features for an attribute without a vectorizer
            tokens = [self._get_processed_message_tokens_by_attribute(message, attribute) for message in messages]
            featurized = [(message, message_tokens) for message, message_tokens in zip(messages, tokens, strict=True)
                          if message_tokens]
            if not featurized:
                continue
            sequences, sentences = self._batch_features(attribute, [t for _, t in featurized])
            for (message, _), sequence, sentence in zip(featurized, sequences, sentences, strict=True):
                self.add_features_to_message(sequence, sentence, attribute, message)
        return messages

    def _batch_features(self, attribute: str,
                        all_tokens: List[List[str]]) -> Tuple[List[Optional[coo_matrix]], List[Optional[coo_matrix]]]:
        """Per-message (sequence, sentence) COO matrices of non-empty token lists, in one call each (None: left out)."""
        vectorizer = self.vectorizers[attribute]
        sentence_only = attribute in DENSE_FEATURIZABLE_ATTRIBUTES and not self._config.get("sequence_features", True)
        if sentence_only:
            sequences: List[Optional[coo_matrix]] = [None] * len(all_tokens)
        else:
            flat = [token for tokens in all_tokens for token in tokens]
            sequences = [self._coo(block) for block in split_rows(vectorizer.transform(flat).tocsr(),
                                                                  [len(tokens) for tokens in all_tokens])]
        if attribute not in DENSE_FEATURIZABLE_ATTRIBUTES:
            return sequences, [None] * len(sequences)
        sentence_matrix = vectorizer.transform([" ".join(tokens) for tokens in all_tokens]).tocsr()
        return sequences, [self._coo(block) for block in split_rows(sentence_matrix, [1] * len(all_tokens))]

    @staticmethod
    def _coo(block: csr_matrix) -> coo_matrix:
        """The block with sorted indices in coordinate format, as Rasa's featurizer stores features."""
        block.sort_indices()
        return block.tocoo()
