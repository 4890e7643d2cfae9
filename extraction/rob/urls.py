from django.urls import path

from extraction.rob import views

P = "reviews/<int:review_pk>/rob/"
T = P + "tools/<int:tool_pk>/"

urlpatterns = [
    path(P, views.rob_home, name="rob_home"),
    path(P + "tools/add/", views.tool_add, name="rob_tool_add"),
    path(T + "settings/", views.tool_settings, name="rob_tool_settings"),
    path(T, views.assessment_list, name="rob_assessments"),
    path(T + "studies/<int:study_pk>/assess/", views.assess, name="rob_assess"),
    path(T + "propose/", views.propose, name="rob_propose"),
    path(T + "judge-all/", views.judge_all, name="rob_judge_all"),
    path(T + "studies/<int:study_pk>/consensus/", views.consensus, name="rob_consensus"),
    path(T + "summary/", views.summary, name="rob_summary"),
    path(T + "robvis.csv", views.robvis_csv, name="rob_robvis_csv"),
    path(T + "answers.csv", views.answers_csv, name="rob_answers_csv"),
]
