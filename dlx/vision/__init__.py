"""What convnets are used for (course 4, weeks 3-4): boxes, IoU and NMS, classification
with localisation, YOLO, mAP, sliding windows, triplet-loss face verification, and neural
style transfer. Built from functional ops and the backend's ``xp``; see docs/vision.md."""

from dlx.vision.boxes import box_area, box_iou, corners_to_midpoint, midpoint_to_corners, nms
from dlx.vision.face import (best_threshold, l2_normalize, mine_triplets,
                             pairwise_squared_distances, recognise, refine_gallery,
                             triplet_loss)
from dlx.vision.localization import landmark_loss, localization_loss
from dlx.vision.metrics import average_precision, mean_average_precision
from dlx.vision.sliding_windows import convolutionalize, window_stride
from dlx.vision.style import (FeatureNet, StyleTransfer, content_cost, gram_matrix,
                              layer_style_cost, style_cost)

__all__ = ["FeatureNet", "StyleTransfer", "average_precision", "best_threshold", "box_area",
           "box_iou", "content_cost", "convolutionalize", "corners_to_midpoint",
           "gram_matrix", "l2_normalize", "landmark_loss", "layer_style_cost",
           "localization_loss", "mean_average_precision", "midpoint_to_corners",
           "mine_triplets", "nms", "pairwise_squared_distances", "recognise", "refine_gallery",
           "style_cost",
           "triplet_loss", "window_stride"]
