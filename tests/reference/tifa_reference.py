"""Literal transcription of TIFA's aggregation, the reference of tests/metrics/alignment/test_tifa.py.

Repository: https://github.com/Yushi-Hu/tifa, commit 8e37050f44ab4ee681e4251f3c8a9d4cc86e901e
(Apache-2.0, Copyright the TIFA authors), ``tifascore/tifa_score.py``
``tifa_score_benchmark``: the loop body and the averaging, verbatim, with the
VQA model call replaced by the multiple-choice answer passed in
(``mc_answers[i]`` for ``question_answer_pairs[i]``) and the image lookup dropped.
"""
from collections import defaultdict
from statistics import mean, stdev


def tifa_score_benchmark(question_answer_pairs, mc_answers):
    tifa_statistics = {"scores": defaultdict(list),
                    "type_scores": defaultdict(list)}
    question_logs = defaultdict(dict)

    for question_answer_pair, mc_answer in zip(question_answer_pairs, mc_answers):
        # get text input id
        caption_id = question_answer_pair['id']

        # read the question, choices, and answers
        if question_answer_pair['question'] not in question_logs[caption_id]:
            question_logs[caption_id][question_answer_pair['question']] = question_answer_pair

        question_logs[caption_id][question_answer_pair['question']]['multiple_choice_vqa'] = mc_answer

        # compute multiple choice score
        score = int(mc_answer == question_answer_pair['answer'])
        question_logs[caption_id][question_answer_pair['question']]['scores'] = score

        # statistics of the scores
        tifa_statistics['scores'][caption_id].append(score)
        tifa_statistics['type_scores'][question_answer_pair['element_type']].append(score)

    question_logs = dict(question_logs)
    result_dict = {}

    # compute the average score
    averaged_scores = [mean(scores) for caption_id, scores in tifa_statistics["scores"].items()]

    result_dict = {"tifa_average": mean(averaged_scores),
                   "tifa_stdev": stdev(averaged_scores),
                   "accuracy_by_type": {type_: mean(scores) for type_, scores in tifa_statistics["type_scores"].items()}
                   }

    # record the details of each question
    result_dict["question_details"] = question_logs

     # record the scores averaged by captions
    result_dict["caption_scores"] = {caption_id: mean(scores) for caption_id, scores in tifa_statistics["scores"].items()}

    return result_dict
