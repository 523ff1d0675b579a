"""Literal transcription of DSG's aggregation, the reference of tests/metrics/alignment/test_dsg.py.

Repository: https://github.com/j-min/DSG, commit 7330119a39f76ff90e619a8bd3ff321e71aa986b
(Apache-2.0, Copyright the DSG authors). Transcribed:

- ``dsg/vqa_utils.py``: ``calc_vqa_score`` (verbatim);
- ``dsg/data_utils.py``: the parsing of the ``dependency`` column into
  ``dsg_id2dependency`` and ``get_data_category`` (verbatim bodies; the
  pandas rows are replaced by dicts with the same keys);
- ``scripts/t2i_eval_dsg1k.py``: the per-category loop (verbatim body, with
  the ``load_vqa_output`` result passed in as ``item_qa`` and the printed
  averages returned instead).
"""
from copy import deepcopy
from typing import Any, Dict

import numpy as np


# --- dsg/vqa_utils.py ---------------------------------------------------------------
def calc_vqa_score(qid2answer, qid2dependency=None, qid2gtanswer=None) -> Dict[str, Any]:
    """Calculate VQA scores of questions and aggregate them into item-level score"""

    if qid2gtanswer is None:
        qid2gtanswer = {qid: 'yes' for qid in qid2answer.keys()}

    qid2scores = {}
    for qid, answer in qid2answer.items():
        gt_answer = qid2gtanswer[qid]
        qid2scores[qid] = float(answer == gt_answer)

    try:
        average_score_without_dep = sum(qid2scores.values()) / len(qid2scores)
    except ZeroDivisionError:
        average_score_without_dep = 0.0

    # zero-out scores from invalid questions
    qid2validity = {}
    qid2scores_after_filtering = deepcopy(qid2scores)

    if qid2dependency is None:
        # no dependency - all questions are valid
        qid2dependency = {qid: [0] for qid in qid2answer.keys()}

    for qid, parent_ids in qid2dependency.items():
        # zero-out scores if parent questions are answered 'no'
        any_parent_answered_no = False
        for parent_id in parent_ids:
            if parent_id == 0:
                continue
            if qid2scores[parent_id] == 0:
                any_parent_answered_no = True
                break
        if any_parent_answered_no:
            qid2scores_after_filtering[qid] = 0.0
            qid2validity[qid] = False
        else:
            qid2validity[qid] = True

    try:
        average_score_with_dep = sum(qid2scores_after_filtering.values()) / len(qid2scores)
    except ZeroDivisionError:
        average_score_with_dep = 0.0

    return {
        'qid2dependency': qid2dependency,
        'qid2answer': qid2answer,
        'qid2scores': qid2scores,
        'qid2validity': qid2validity,
        'average_score_with_dependency': average_score_with_dep,
        'average_score_without_dependency': average_score_without_dep
    }


# --- dsg/data_utils.py --------------------------------------------------------------
def dependencies_of(rows):
    """``dsg_id2dependency`` from annotation rows (dicts with item_id, proposition_id, dependency)."""
    dsg_itemid2data = {}
    for row in rows:
        dsg_itemid2data.setdefault(row['item_id'], []).append(row)
    dsg_id2dependency = {}
    for item_id, item_df in dsg_itemid2data.items():
        try:
            qid2dep = {}
            for row in item_df:
                qid = row['proposition_id']
                output = row['dependency']
                if type(output) == str:
                    output = list(output.split(","))
                    output = [int(x.strip()) for x in output]
                qid2dep[qid] = output

        except Exception:
            qid2dep = {}
        dsg_id2dependency[item_id] = qid2dep
    return dsg_id2dependency


def get_data_category(data_str):

    if 'tifa' in data_str:
        return 'tifa'
    elif 'stanford' in data_str or 'localized' in data_str:
        return 'paragraph'

    elif 'countbench' in data_str:
        return 'count'

    elif 'vrd' in data_str:
        return 'relation'

    elif 'diffusion' in data_str or 'midjourney' in data_str:
        return 'real_user'

    elif 'posescript' in data_str:
        return 'pose'

    elif 'whoops' in data_str:
        return 'defying'

    elif 'drawtext' in data_str:
        return 'text'

    else:
        print("Error", data_str)


# --- scripts/t2i_eval_dsg1k.py -------------------------------------------------------
def t2i_eval(all_dsg1k_item_ids, item_qa, dsg_id2dependency, all_data_categories, qg_model='dsg'):
    """The script's loop; ``item_qa[item_id]`` is ``load_vqa_output``'s list of
    ``{"question_id", "vqa_answer"}`` (the single ``{"question_id": 1, "vqa_answer": ""}``
    for an item with no rows). Returns {category: avg_vqa_score} with 'all' last."""
    out = {}
    for dataset_category in all_data_categories + ['all']:

        vqa_scores = []

        if dataset_category == 'all':
            item_ids = all_dsg1k_item_ids
        else:
            item_ids = [item_id for item_id in all_dsg1k_item_ids if get_data_category(item_id) == dataset_category]

        for item_id in item_ids:
            qa_output = item_qa[item_id]

            try:
                qid2answer = {qa['question_id']: qa['vqa_answer'] for qa in qa_output}
            except Exception:
                qid2answer = {1: ""}

            if qg_model == 'dsg':
                qid2dependency = dsg_id2dependency[item_id]
            else:
                qid2dependency = None

            vqa_score_dict = calc_vqa_score(qid2answer, qid2dependency)
            avg_score = vqa_score_dict['average_score_with_dependency']

            vqa_scores += [avg_score]

        avg_vqa_score = np.mean(vqa_scores)
        out[dataset_category] = avg_vqa_score
    return out
