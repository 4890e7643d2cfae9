from django.contrib.auth import get_user_model
from rest_framework import serializers

from reviewapp.models import Membership, Review

User = get_user_model()

ROLES = ["lead", "reviewer", "arbiter", "viewer"]


class ReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = [
            "id",
            "title",
            "population",
            "intervention",
            "comparison",
            "outcomes",
            "protocol_registration",
            "inclusion_criteria",
            "exclusion_criteria",
            "created_at",
            "updated_at",
            "deleted_at",
            "purge_after",
        ]
        read_only_fields = ["id", "created_at", "updated_at", "deleted_at", "purge_after"]

    purge_after = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Deleted reviews: restorable until then."
    )
    inclusion_criteria = serializers.ListField(child=serializers.CharField(), required=False)
    exclusion_criteria = serializers.ListField(child=serializers.CharField(), required=False)


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES), read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "roles", "created_at"]


class InviteSerializer(serializers.Serializer):
    who = serializers.CharField(help_text="Username or e-mail address.")
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES), min_length=1)


class RolesSerializer(serializers.Serializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES))


class InvitationSentSerializer(serializers.Serializer):
    invited = serializers.EmailField()
