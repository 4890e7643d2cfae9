from django.contrib.auth import get_user_model
from rest_framework import serializers

from reviewapp.models import Invitation, Membership, Review

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
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

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


class InvitationSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=ROLES), read_only=True)
    invited_by = serializers.CharField(source="invited_by.username", read_only=True, default=None)
    is_expired = serializers.BooleanField(read_only=True)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "roles",
            "invited_by",
            "created_at",
            "sent_at",
            "expires_at",
            "is_expired",
            "accepted_at",
            "revoked_at",
        ]
        read_only_fields = fields


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The last part of the invitation link.")
