"""Intent matching with scikit-learn: TF-IDF over character n-grams, nearest example by cosine similarity.

Character n-grams (2-4 within word boundaries, chosen on the tuning half of benchmarks/data/bot_questions.yaml)
need no word segmenter, so Chinese ("我的包裹到哪了") and English share one model, and they tolerate typos and
inflections ("refunded", "refund"). Each intent
scores its closest example; the score is the bot's confidence (0..1).
"""

from __future__ import annotations

import unicodedata

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from services.customer_service.domain.bot import Match
from services.customer_service.domain.knowledge_base import KnowledgeBase


def normalise(text: str) -> str:
    # NFKC folds full-width Latin and digits (common in Chinese input methods) to their ASCII forms.
    return unicodedata.normalize("NFKC", text).lower().strip()


class TfidfIntentMatcher:
    def __init__(self, kb: KnowledgeBase) -> None:
        texts: list[str] = []
        labels: list[str] = []
        for intent in kb.intents:
            for examples in intent.examples.values():
                texts.extend(normalise(e) for e in examples)
                labels.extend([intent.id] * len(examples))
        self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        self._examples = self._vectorizer.fit_transform(texts)  # rows are L2-normalised
        self._intents = sorted(set(labels))
        index = {intent: i for i, intent in enumerate(self._intents)}
        self._label_index = np.array([index[label] for label in labels])

    def rank(self, question: str) -> list[Match]:
        query = self._vectorizer.transform([normalise(question)])
        similarity = (self._examples @ query.T).toarray().ravel()
        best = np.zeros(len(self._intents))
        np.maximum.at(best, self._label_index, similarity)
        order = np.argsort(-best, kind="stable")
        return [Match(self._intents[i], float(best[i])) for i in order]
